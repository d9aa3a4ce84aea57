// Shared by the emulator's files: the per-thread "last error" of the emulated runtime, and whether
// device work runs at all (IGNIS_CUDA_EMU_SKIP_KERNELS, emu.h).
#pragma once
#include <cuda_runtime.h>

namespace emu {
// what the next cudaGetLastError() returns (a failed launch, as the device reports it)
void set_launch_error(cudaError_t e);
bool skip_kernels();
}  // namespace emu
