// Loads the optional CUDA backend (libignis_cuda.so, native/cuda/api.h) on first CUDA use.
// Order: the NVIDIA driver (libcuda.so.1; without it the static CUDA runtime would report a
// misleading "driver insufficient"), the library next to ignis.node, cuDNN and cuBLAS from the
// usual places, then the table's own init() (devices, versions). Nothing here ever aborts: a
// failure is remembered as the reason that ignis.cuda.unavailableReason() returns.
#pragma once
#include <string>

#include "../cuda/api.h"

namespace ignis {

// The backend's table, or nullptr when CUDA cannot be used (see cuda_unavailable_reason()).
const IgnisCudaApi* cuda_api();
const std::string& cuda_unavailable_reason();
// The table, or a DeviceError "<what>: CUDA is not available: <reason>".
const IgnisCudaApi& cuda_require(const char* what);
// Throws the backend's last error as an ignis::Error (kind and message from api.h).
[[noreturn]] void cuda_throw(const IgnisCudaApi& api, const char* what);
// Where the loader looked for the library (for messages and tests).
std::string cuda_library_path();

}  // namespace ignis
