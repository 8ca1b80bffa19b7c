//===- LtGemm.h - one GemmCall as a cuBLASLt matmul -------------*- C++ -*-===//
//
// Builds the cuBLASLt descriptors of a GemmCall (GpuDevice.h): the matmul descriptor with
// f32 compute and scale, transposes and the bias / GELU-bias epilogue; one column-major
// layout per matrix with the batch count and stride; asks the heuristic for an algorithm
// once per shape and operand alignment (declared from the pointers); and queues the matmul. It goes through a cuda::BlasLt table, so tests
// drive it with a table of their own (runtime/unittests/LtGemmTest.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CUDA_LTGEMM_H
#define PARC_RUNTIME_LIB_CUDA_LTGEMM_H

#include "CudaApi.h"
#include "GpuDevice.h"

#include <map>
#include <vector>

namespace parc::rt {

class LtGemm {
public:
  /// `workspace` (device memory of `workspaceBytes`) is cuBLASLt's scratch.
  LtGemm(const cuda::BlasLt &blas, cuda::LtHandle handle, void *workspace,
         size_t workspaceBytes)
      : blas(blas), handle(handle), workspace(workspace), workspaceBytes(workspaceBytes) {}

  /// Queues `call` on `stream`.
  Status run(const GemmCall &call, cuda::Stream stream);

private:
  Status algorithmFor(const GemmCall &call, cuda::LtMatmulDesc desc, cuda::LtMatrixLayout a,
                      cuda::LtMatrixLayout b, cuda::LtMatrixLayout d, cuda::LtAlgo &algo);

  const cuda::BlasLt &blas;
  cuda::LtHandle handle;
  void *workspace;
  size_t workspaceBytes;
  /// The heuristic's choice per shape and alignments.
  std::map<std::vector<int64_t>, cuda::LtAlgo> algorithms;
};

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CUDA_LTGEMM_H
