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

namespace parc::rt {

/// How many CUDA devices the driver sees; an error saying why there is none (no driver
/// library, cuInit failing, no device).
Status countCudaDevices(int &devices);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CUDADEVICE_H
