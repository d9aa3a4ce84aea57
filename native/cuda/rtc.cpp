// Run-time compiled kernels: images that the addon made with NVRTC (native/binding/nvrtc.cpp)
// are loaded as CUDA libraries and launched on the device's stream. The runtime API reaches all
// of it (cudaLibraryLoadData, cudaLibraryGetKernel, cudaLaunchKernel takes a cudaKernel_t), so the
// library gains no link dependency.
#include <string>

#include "common.h"
#include "kernels.h"

namespace ignis_cuda {

void rtc_load_cuda(int dev, const void* image, size_t nbytes, int nkernels, const char* const* names, void** kernels) {
  if (!image || nbytes == 0) fail("ValueError", "run-time kernel: empty image");
  device(dev);  // the device current, so that the library loads into its context
  cudaLibrary_t lib = nullptr;
  IGNIS_CUDA_CHECK(cudaLibraryLoadData(&lib, image, nullptr, nullptr, 0, nullptr, nullptr, 0),
                   "run-time kernel: cudaLibraryLoadData");
  for (int i = 0; i < nkernels; ++i) {
    cudaKernel_t k = nullptr;
    cudaError_t e = cudaLibraryGetKernel(&k, lib, names[i]);
    if (e != cudaSuccess) {
      cudaLibraryUnload(lib);
      check_cuda(e, ("run-time kernel: cudaLibraryGetKernel(" + std::string(names[i]) + ")").c_str());
    }
    kernels[i] = reinterpret_cast<void*>(k);
  }
}

void rtc_launch_cuda(int dev, void* kernel, int64_t n, int per_thread, void** args) {
  if (n <= 0) return;
  constexpr int kThreads = 256;
  unsigned blocks = blocks_for(n, kThreads, int64_t(per_thread < 1 ? 1 : per_thread) * 4);
  IGNIS_CUDA_CHECK(cudaLaunchKernel(static_cast<const void*>(kernel), dim3(blocks), dim3(kThreads), args, 0, stream(dev)),
                   "run-time kernel: launch");
}

}  // namespace ignis_cuda
