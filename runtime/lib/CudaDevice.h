//===- CudaDevice.h - finding a GPU for a --target=cuda artifact -*- C++ -*-===//
//
// parc-run loads the NVIDIA driver at run time (dlopen of libcuda.so.1), so one binary
// runs CPU artifacts on machines without CUDA and says clearly why a CUDA artifact cannot
// run there.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CUDADEVICE_H
#define PARC_RUNTIME_LIB_CUDADEVICE_H

#include "parc/Runtime/Status.h"

#include <ostream>

namespace parc::rt {

/// How many CUDA devices the driver sees; an error saying why there is none (no driver
/// library, cuInit failing, no device).
Status countCudaDevices(int &devices);

/// Ranks of a --target=cuda run, one GPU each. `world` ranks on `devices` GPUs: when ranks
/// outnumber GPUs they share them, and since NCCL refuses two ranks on one device, every
/// collective and pipeline transfer is then staged through host memory over Gloo.
struct GpuPlacement {
  int ordinal = 0;
  bool stageThroughHost = false;
};
GpuPlacement placeRankOnGpu(int rank, int world, int devices);

/// parc-run --cuda-libraries: one line for each library a --target=cuda run opens (the
/// NVIDIA driver with its CUDA version, cuBLASLt, NCCL), naming the file found or why
/// none was. True when all three were found.
bool reportCudaLibraries(std::ostream &out);

/// True when PARC_CUDA_EMULATOR is set (to anything but "" or "0"): CUDA artifacts run on
/// the host through the emulator (cuda/EmulatedDevice.cpp), for testing without a GPU.
bool cudaEmulatorRequested();

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CUDADEVICE_H
