//===- MatMul.cpp - batched matrix products -------------------------------===//
//
// Implements matmul: [..., m, k] x [..., k, n] -> [..., m, n] with numpy
// broadcasting of the batch dims. f32 goes to OpenBLAS: a 2-D right-hand side
// (a weight) folds every batch dim of the left-hand side into m for a single
// sgemm; otherwise the broadcast batch is walked with one sgemm per entry, or
// per run of consecutive left-hand matrices that share one right-hand matrix.
// f16 and bf16 are widened to f32, multiplied and rounded once; integer
// products use plain loops (they are rare and small) and wrap on overflow.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "KernelRegistry.h"

#include "parc/artifact/artifact.pb.h"
#include "KernelSupport.h"
#include "StridedLoop.h"

#include <algorithm>
#include <cblas.h>
#include <type_traits>

namespace parc::rt::cpu {

namespace {

/// The matrix dims and the batch shapes of one product.
struct MatMulDims {
  int64_t m, k, n;
  Shape lhsBatch, rhsBatch, outBatch;

  MatMulDims(const TensorRef &lhs, const TensorRef &rhs, const TensorRef &out)
      : m(lhs.shape[lhs.rank() - 2]), k(lhs.shape[lhs.rank() - 1]),
        n(rhs.shape[rhs.rank() - 1]),
        lhsBatch(lhs.shape.begin(), lhs.shape.end() - 2),
        rhsBatch(rhs.shape.begin(), rhs.shape.end() - 2),
        outBatch(out.shape.begin(), out.shape.end() - 2) {}
};

/// Calls gemm(lhsMatrix, rhsMatrix, outMatrix, count) for the whole batch:
/// `count` consecutive output matrices from outMatrix are the products of as
/// many consecutive left-hand matrices from lhsMatrix with the one right-hand
/// matrix rhsMatrix, so that they form a single GEMM with count * m rows.
/// Indices count whole matrices.
template <typename Gemm>
void forEachMatrixRun(const MatMulDims &dims, const Gemm &gemm) {
  StridedPlan plan =
      makeBroadcastPlan(dims.outBatch, {&dims.lhsBatch, &dims.rhsBatch});
  forEachSegment(plan, 0, plan.total,
                 [&](int64_t position, const StridedPlan::Offsets &offsets,
                     int64_t count) {
                   int64_t lhsStep = plan.innerStride[0];
                   int64_t rhsStep = plan.innerStride[1];
                   if (lhsStep == 1 && rhsStep == 0) {
                     gemm(offsets[0], offsets[1], position, count);
                     return;
                   }
                   for (int64_t i = 0; i < count; ++i)
                     gemm(offsets[0] + i * lhsStep, offsets[1] + i * rhsStep,
                          position + i, int64_t(1));
                 });
}

/// C = A * B for row-major A (m x k), B (k x n), C (m x n).
void sgemm(const float *a, const float *b, float *c, int64_t m, int64_t k,
           int64_t n) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, a,
              static_cast<int>(k), b, static_cast<int>(n), 0.0f, c,
              static_cast<int>(n));
}

void matmulFloat(const float *a, const float *b, float *c,
                 const MatMulDims &dims) {
  const int64_t m = dims.m, k = dims.k, n = dims.n;
  int64_t batch = numElements(dims.outBatch);
  if (k == 0) {
    std::fill(c, c + batch * m * n, 0.0f);
    return;
  }
  if (numElements(dims.rhsBatch) == 1 && numElements(dims.lhsBatch) == batch) {
    // A shared 2-D rhs: the lhs batch is one tall matrix.
    sgemm(a, b, c, batch * m, k, n);
    return;
  }
  forEachMatrixRun(dims, [&](int64_t lhsMatrix, int64_t rhsMatrix,
                             int64_t outMatrix, int64_t count) {
    sgemm(a + lhsMatrix * m * k, b + rhsMatrix * k * n, c + outMatrix * m * n,
          count * m, k, n);
  });
}

/// Integer products by plain loops, wrapping on overflow.
template <typename T>
void matmulInteger(const T *a, const T *b, T *c, const MatMulDims &dims) {
  using Unsigned = std::make_unsigned_t<T>;
  const int64_t m = dims.m, k = dims.k, n = dims.n;
  forEachMatrixRun(dims, [&](int64_t lhsMatrix, int64_t rhsMatrix,
                             int64_t outMatrix, int64_t count) {
    const T *lhs = a + lhsMatrix * m * k;
    const T *rhs = b + rhsMatrix * k * n;
    T *result = c + outMatrix * m * n;
    for (int64_t row = 0; row < count * m; ++row) {
      Unsigned *outRow = reinterpret_cast<Unsigned *>(result + row * n);
      std::fill(outRow, outRow + n, Unsigned(0));
      for (int64_t p = 0; p < k; ++p) {
        Unsigned x = static_cast<Unsigned>(lhs[row * k + p]);
        const T *rhsRow = rhs + p * n;
        for (int64_t j = 0; j < n; ++j)
          outRow[j] += x * static_cast<Unsigned>(rhsRow[j]);
      }
    }
  });
}

} // namespace

void matmul(const TensorRef &lhs, const TensorRef &rhs, const TensorRef &out) {
  if (out.numElements() == 0)
    return;
  MatMulDims dims(lhs, rhs, out);
  switch (out.dtype) {
  case DType::F32:
    return matmulFloat(lhs.as<const float>(), rhs.as<const float>(),
                       out.as<float>(), dims);
  case DType::F16:
  case DType::BF16: {
    std::vector<float> a = widenToFloat(lhs), b = widenToFloat(rhs);
    std::vector<float> c(out.numElements());
    matmulFloat(a.data(), b.data(), c.data(), dims);
    return narrowFromFloat(c.data(), out);
  }
  case DType::I64:
    return matmulInteger(lhs.as<const int64_t>(), rhs.as<const int64_t>(),
                         out.as<int64_t>(), dims);
  case DType::I32:
    return matmulInteger(lhs.as<const int32_t>(), rhs.as<const int32_t>(),
                         out.as<int32_t>(), dims);
  case DType::Bool:
    assert(false && "matmul does not take bool");
    return;
  }
}

} // namespace parc::rt::cpu

void parc::rt::cpu::addMatMulKernels(KernelRegistry &kernels) {
  kernels.add("matmul", [](const artifact::Instruction &, const std::vector<TensorRef> &in,
                           const std::vector<TensorRef> &out, const CommunicatorGroups &,
                           BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(expectArity(in, out, 2));
    kernel = infallible([=] { matmul(in[0], in[1], out[0]); });
    return Status::ok();
  });
}
