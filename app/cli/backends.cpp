// See backends.h. The CUDA engineer's registration function lives in kernels/include/llava_cuda.
#include "backends.h"

namespace cli {

llava::BackendRegistry makeBackendRegistry() {
    llava::BackendRegistry registry;  // CPU registered by the constructor
    return registry;
}

llava::Result<llava::BackendKind> parseBackendKind(const std::string& text) {
    if (text == "cpu") return llava::BackendKind::Cpu;
    if (text == "cuda") return llava::BackendKind::Cuda;
    if (text == "auto") return llava::BackendKind::Auto;
    return llava::makeError(llava::ErrorCode::InvalidArgument, "--backend: \"" + text + "\" is not cpu, cuda or auto");
}

}  // namespace cli
