//===- GemmPlan.cpp - parc's matmul as a column-major GEMM ----------------===//

#include "GemmPlan.h"

#include "parc/artifact/artifact.pb.h"

#include <algorithm>
#include <cmath>

using namespace parc::rt;

LaunchShape parc::rt::launchShapeOf(const parc::artifact::CudaKernel &kernel,
                                    int64_t maxBlocks) {
  LaunchShape shape;
  shape.threads = kernel.block_size() > 0 ? kernel.block_size() : 256;
  if (kernel.row()) {
    shape.blocks = std::max<int64_t>(1, kernel.rows());
    return shape;
  }
  int64_t lanes = kernel.lanes() > 1 ? kernel.lanes() : kernel.vectorized() ? 4 : 1;
  int64_t work = kernel.elements() / lanes;
  shape.blocks = std::clamp<int64_t>((work + shape.threads - 1) / shape.threads, 1, maxBlocks);
  return shape;
}

Status parc::rt::planMatmul(const TensorRef &lhs, const TensorRef &rhs, const TensorRef &out,
                            GemmEpilogue epilogue, const TensorRef *bias, GemmCall &call) {
  if (lhs.rank() < 2 || rhs.rank() < 2 || out.rank() < 2)
    return Status::error("a GEMM needs operands of rank 2 or more, got " +
                         formatShape(lhs.shape) + " x " + formatShape(rhs.shape));
  if (lhs.dtype != rhs.dtype || lhs.dtype != out.dtype || !isFloat(lhs.dtype))
    return Status::error(std::string("a GEMM multiplies f32, f16 or bf16 matrices of one type, got ") +
                         dtypeName(lhs.dtype) + " x " + dtypeName(rhs.dtype) + " -> " +
                         dtypeName(out.dtype));
  int64_t M = lhs.shape[lhs.rank() - 2], K = lhs.shape[lhs.rank() - 1];
  int64_t N = rhs.shape[rhs.rank() - 1];
  if (rhs.shape[rhs.rank() - 2] != K || out.shape[out.rank() - 2] != M ||
      out.shape[out.rank() - 1] != N)
    return Status::error("matmul shapes do not agree: " + formatShape(lhs.shape) + " x " +
                         formatShape(rhs.shape) + " -> " + formatShape(out.shape));
  int64_t batch = out.numElements() / std::max<int64_t>(1, M * N);
  int64_t lhsBatch = lhs.numElements() / std::max<int64_t>(1, M * K);
  int64_t rhsBatch = rhs.numElements() / std::max<int64_t>(1, K * N);
  call = GemmCall{};
  call.dtype = out.dtype;
  call.k = K;
  call.m = N;
  // Column-major: D^T (N x M, ld N) = B^T (N x K, ld N) * A^T (K x M, ld K).
  call.a = rhs.data;
  call.lda = N;
  call.b = lhs.data;
  call.ldb = K;
  call.d = out.data;
  call.ldd = N;
  if (rhsBatch == 1 && lhsBatch == batch) {
    // One right-hand matrix: the left-hand batch is one tall matrix (batch * M rows).
    call.n = batch * M;
    call.batch = 1;
  } else if ((lhsBatch == batch || lhsBatch == 1) && (rhsBatch == batch || rhsBatch == 1)) {
    call.n = M;
    call.batch = batch;
    call.strideA = K * N; // one right-hand matrix took the branch above
    call.strideB = lhsBatch == 1 ? 0 : M * K;
    call.strideD = M * N;
  } else {
    return Status::error("matmul batch broadcast " + formatShape(lhs.shape) + " x " +
                         formatShape(rhs.shape) +
                         " is not a strided batch (each side must have the whole batch "
                         "or one matrix)");
  }
  call.epilogue = epilogue;
  if (epilogue != GemmEpilogue::None) {
    if (!bias || bias->numElements() != N || bias->dtype != out.dtype)
      return Status::error("a GEMM epilogue's bias must have the product's last dim (" +
                           std::to_string(N) + ") and element type");
    call.bias = bias->data;
  }
  return Status::ok();
}

namespace {

float loadElement(DType dtype, const void *base, int64_t index) {
  switch (dtype) {
  case DType::F16:
    return halfToFloat(static_cast<const uint16_t *>(base)[index]);
  case DType::BF16:
    return bf16ToFloat(static_cast<const uint16_t *>(base)[index]);
  default:
    return static_cast<const float *>(base)[index];
  }
}

void storeElement(DType dtype, void *base, int64_t index, float value) {
  switch (dtype) {
  case DType::F16:
    static_cast<uint16_t *>(base)[index] = floatToHalf(value);
    return;
  case DType::BF16:
    static_cast<uint16_t *>(base)[index] = floatToBf16(value);
    return;
  default:
    static_cast<float *>(base)[index] = value;
  }
}

} // namespace

Status parc::rt::runGemmOnHost(const GemmCall &call) {
  if (!isFloat(call.dtype))
    return Status::error("the GEMM reference multiplies f32, f16 or bf16");
  // Column-major element (row r, column c) of X with leading dim ld is X[r + c * ld];
  // op(X) transposed reads X[c + r * ld].
  for (int64_t b = 0; b < call.batch; ++b) {
    int64_t a0 = b * call.strideA, b0 = b * call.strideB, d0 = b * call.strideD;
    for (int64_t c = 0; c < call.n; ++c)
      for (int64_t r = 0; r < call.m; ++r) {
        float sum = 0;
        for (int64_t p = 0; p < call.k; ++p) {
          int64_t ai = call.transA ? p + r * call.lda : r + p * call.lda;
          int64_t bi = call.transB ? c + p * call.ldb : p + c * call.ldb;
          sum += loadElement(call.dtype, call.a, a0 + ai) *
                 loadElement(call.dtype, call.b, b0 + bi);
        }
        if (call.epilogue != GemmEpilogue::None)
          sum += loadElement(call.dtype, call.bias, r);
        if (call.epilogue == GemmEpilogue::BiasGelu)
          sum = 0.5f * sum *
                (1.0f + std::tanh(0.7978845608028654f * (sum + 0.044715f * sum * sum * sum)));
        storeElement(call.dtype, call.d, d0 + r + c * call.ldd, sum);
      }
  }
  return Status::ok();
}
