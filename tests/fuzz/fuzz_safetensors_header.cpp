// libFuzzer target: arbitrary bytes as a whole safetensors file image (length prefix, header JSON,
// data region) and, separately, as a shard index. Must never crash, leak or hit UB; accepted files
// must satisfy the invariants the rest of core relies on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "llava/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    auto header = llava::parseSafetensorsBytes(bytes, "fuzz.safetensors");
    if (header.isOk()) {
        const std::uint64_t dataSize = size - header->dataOffset;
        for (const llava::SafetensorsEntry& t : header->tensors) {
            // Invariants: offsets inside the data region and byte size consistent with the shape.
            if (t.begin > t.end || t.end > dataSize) std::abort();
            std::uint64_t n = llava::dtypeSize(t.dtype);
            for (std::int64_t d : t.shape) {
                if (d < 0) std::abort();
                n *= static_cast<std::uint64_t>(d);
            }
            if (n != t.end - t.begin) std::abort();
        }
    }
    (void)llava::parseShardIndex(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.index.json");
    return 0;
}
