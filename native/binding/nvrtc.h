// NVRTC, loaded with dlopen on first use: the addon links no CUDA library and needs no driver to
// compile (so the compile path is tested on machines without a GPU). Used by the expression
// activations' CUDA path (rtc_entries.inc), never by anything that runs per element.
#pragma once
#include <string>
#include <vector>

namespace ignis {

struct NvrtcImage {
  std::string image;   // cubin bytes, or PTX text with its NUL
  bool ptx = false;    // PTX for an arch newer than NVRTC knows (the driver JIT-compiles it)
  std::string target;  // "sm_90" or "compute_120"
  std::string log;     // NVRTC's log (warnings), may be empty
  double ms = 0;       // compile time
};

// Whether libnvrtc could be loaded; otherwise nvrtc_reason() says where it looked and how to fix it.
bool nvrtc_available();
const std::string& nvrtc_reason();
std::string nvrtc_path();       // the file loaded ("" when none)
std::string nvrtc_version();    // "13.0"
std::vector<int> nvrtc_archs(); // the sm_XY NVRTC can emit cubins for, as XY
// Compiles `src` for compute capability `arch` (major * 10 + minor): a cubin when NVRTC knows the
// arch, else PTX for the newest arch it knows below it. Throws ignis::Error: DeviceError when
// NVRTC is absent (naming `what`), CompileError with NVRTC's log when the source does not compile.
NvrtcImage nvrtc_compile(const std::string& src, int arch, const std::string& what);

}  // namespace ignis
