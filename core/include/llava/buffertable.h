// The buffer table every Backend keeps: Tensor::buffer ids (id = index + 1, 0 = the null handle), released
// ids reused, and the one range check that turns a handle + byte count into a buffer. The CPU and CUDA
// backends store their own buffer type in it, so a handle is resolved with the same rules and messages on
// both. Not thread-safe (a backend is used from one thread at a time, backend.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "llava/status.h"
#include "llava/tensor.h"

namespace llava {

// Buffer: default-constructible (the released state), movable, with
//   bool live() const          false once released
//   std::size_t size() const   bytes it holds
template <typename Buffer>
class BufferTable {
public:
    std::uint32_t add(Buffer buffer) {
        if (!m_free.empty()) {
            const std::uint32_t id = m_free.back();
            m_free.pop_back();
            m_buffers[id - 1] = std::move(buffer);
            return id;
        }
        m_buffers.push_back(std::move(buffer));
        return static_cast<std::uint32_t>(m_buffers.size());
    }

    // The live buffer with this id, or nullptr (null handle, unknown id, released).
    const Buffer* find(std::uint32_t id) const {
        if (id == 0 || id > m_buffers.size() || !m_buffers[id - 1].live()) return nullptr;
        return &m_buffers[id - 1];
    }
    Buffer* find(std::uint32_t id) { return const_cast<Buffer*>(std::as_const(*this).find(id)); }

    // Frees the buffer (its destructor runs now) and recycles the id; false when it was not live, so
    // releasing twice cannot hand one id to two later allocations.
    bool release(std::uint32_t id) {
        if (!find(id)) return false;
        m_buffers[id - 1] = Buffer{};
        m_free.push_back(id);
        return true;
    }

    // The buffer behind `t` when bytes [t.offset, t.offset + bytes) lie inside it. Errors name `op`:
    // InvalidArgument for a null or released handle, OutOfRange for bytes past the buffer's end.
    Result<const Buffer*> resolve(const Tensor& t, std::size_t bytes, const char* op) const {
        const Buffer* b = find(t.buffer);
        if (!b) return makeError(ErrorCode::InvalidArgument, std::string(op) + ": null or released tensor");
        if (t.offset > b->size() || bytes > b->size() - t.offset)  // no overflow
            return makeError(ErrorCode::OutOfRange, std::string(op) + ": " + std::to_string(bytes) + " bytes at offset " +
                                                        std::to_string(t.offset) + " exceed buffer of " +
                                                        std::to_string(b->size()));
        return b;
    }

    template <typename F>
    void forEachLive(F&& f) const {
        for (const Buffer& b : m_buffers)
            if (b.live()) f(b);
    }

private:
    std::vector<Buffer> m_buffers;  // id = index + 1
    std::vector<std::uint32_t> m_free;
};

}  // namespace llava
