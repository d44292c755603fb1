// See backends.h. The CUDA engineer's registration function lives in kernels/include/llava_cuda.
#include "backends.h"

// LLAVA_CLI_HAVE_CUDA is set by app/cli/CMakeLists.txt when the llava_kernels target exists.
#if defined(LLAVA_CLI_HAVE_CUDA) && __has_include("llava_cuda/cuda_backend.h")
#include "llava_cuda/cuda_backend.h"
#define LLAVA_CLI_REGISTER_CUDA 1
#endif

namespace cli {

llava::BackendRegistry makeBackendRegistry() {
    llava::BackendRegistry registry;  // CPU registered by the constructor
#ifdef LLAVA_CLI_REGISTER_CUDA
    llava::cuda::registerCudaBackend(registry);
#endif
    return registry;
}

llava::Result<llava::BackendKind> parseBackendKind(const std::string& text) {
    if (text == "cpu") return llava::BackendKind::Cpu;
    if (text == "cuda") return llava::BackendKind::Cuda;
    if (text == "auto") return llava::BackendKind::Auto;
    return llava::makeError(llava::ErrorCode::InvalidArgument, "--backend: \"" + text + "\" is not cpu, cuda or auto");
}

}  // namespace cli
