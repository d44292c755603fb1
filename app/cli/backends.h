// The backend registry the CLI hands to Engine::load: CPU always, CUDA when the kernels library is
// linked (LLAVA_CLI_HAVE_CUDA), so no other CLI file needs an #ifdef.
#pragma once

#include <string>

#include "llava/backend.h"
#include "llava/status.h"

namespace cli {

llava::BackendRegistry makeBackendRegistry();
// "cpu" | "cuda" | "auto".
llava::Result<llava::BackendKind> parseBackendKind(const std::string& text);

}  // namespace cli
