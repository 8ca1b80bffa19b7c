//===- CudaTarget.h - the cuda compilation target ---------------*- C++ -*-===//

#ifndef PARC_TARGET_CUDA_CUDATARGET_H
#define PARC_TARGET_CUDA_CUDATARGET_H

#include "parc/Target/Target.h"

namespace mlir::parc {

/// `--target=cuda`: the compile pipeline fuses, and every instruction but GEMMs (cuBLASLt),
/// collectives (NCCL) and weight updates launches a kernel generated for it
/// (KernelEmitter.h), compiled with NVRTC for the --cuda-arch and stored in the artifact
/// once per distinct source.
std::unique_ptr<Target> createCudaTarget();

} // namespace mlir::parc

#endif // PARC_TARGET_CUDA_CUDATARGET_H
