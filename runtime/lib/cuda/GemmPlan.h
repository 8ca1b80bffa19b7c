//===- GemmPlan.h - parc's matmul as a column-major GEMM --------*- C++ -*-===//
//
// parc tensors are row-major; cuBLAS(Lt) is column-major. A row-major M x N matrix is
// the column-major N x M matrix of the same bytes (its transpose), so
//
//   D = A B   (row-major, A M x K, B K x N)   is   D^T = B^T A^T   (column-major)
//
// which is a column-major GEMM with m = N, n = M, k = K whose first operand is B's
// memory (leading dim N) and second A's (leading dim K), neither transposed. A bias along
// D's last dim is then a bias over the column-major rows: cuBLASLt's bias epilogue.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CUDA_GEMMPLAN_H
#define PARC_RUNTIME_LIB_CUDA_GEMMPLAN_H

#include "GpuDevice.h"

#include "parc/Runtime/TensorRef.h"

namespace parc::rt {

/// The GEMM computing parc.matmul `lhs` x `rhs` -> `out` ([..., M, K] x [..., K, N] with
/// numpy broadcasting of the batch dims), plus `bias` (N elements) and GELU per
/// `epilogue`. A 2-D (or batch-1) right-hand side folds the left-hand batch into M; equal
/// batches, or one side's batch of one matrix, are a strided batch. Other broadcasts
/// are an error naming the shapes.
Status planMatmul(const TensorRef &lhs, const TensorRef &rhs, const TensorRef &out,
                  GemmEpilogue epilogue, const TensorRef *bias, GemmCall &call);

/// Runs `call` on the host by its definition (GpuDevice.h): the emulator's GEMM, and the
/// reference the plans are tested against.
Status runGemmOnHost(const GemmCall &call);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CUDA_GEMMPLAN_H
