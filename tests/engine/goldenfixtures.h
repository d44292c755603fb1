// Reader for the committed golden fixtures (tests/fixtures/golden, written by tests/reference): one tensor
// of a golden safetensors file as a host vector. Qt-free (the GPU tests use it too); the fixture images
// are read by fixtureimage.h. Header-only, test code only.
#pragma once

#include <cstring>
#include <vector>

#include "llava/safetensors.h"

namespace llava::test {

// The tensor `name` of a golden file as T values (its raw bytes; T must match the stored dtype);
// empty when the file has no such tensor.
template <typename T>
std::vector<T> goldenValues(const SafetensorsFile& file, const char* name) {
    const TensorView* v = file.find(name);
    if (!v) return {};
    std::vector<T> out(v->byteSize / sizeof(T));
    std::memcpy(out.data(), v->data, v->byteSize);
    return out;
}

}  // namespace llava::test
