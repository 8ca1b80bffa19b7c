//===- MatMulTest.cpp - batched matrix products ---------------------------===//
//
// Expected values: literals for tiny products, otherwise a naive triple loop in
// double precision over the broadcast batch (coordinates mapped with TestUtils'
// broadcastSource). Tolerance for f32: 1e-5 times sum_k |a_ik * b_kj| (+1e-6),
// the scale of the rounding error of any summation order; f16/bf16 results may
// differ from the correctly rounded reference by one unit in the last place,
// since the f32 sum they are rounded from differs.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "TestUtils.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

/// The reference product and, per element, the scale of its rounding error.
struct Reference {
  std::vector<double> values, scale;
};

Reference naiveMatMul(const std::vector<double> &a, const Shape &aShape,
                      const std::vector<double> &b, const Shape &bShape,
                      const Shape &outShape) {
  int64_t m = aShape[aShape.size() - 2], k = aShape.back(), n = bShape.back();
  Shape aBatch(aShape.begin(), aShape.end() - 2);
  Shape bBatch(bShape.begin(), bShape.end() - 2);
  Shape outBatch(outShape.begin(), outShape.end() - 2);
  Reference reference;
  for (int64_t batch = 0; batch < numElements(outBatch); ++batch) {
    int64_t aMatrix = broadcastSource(aBatch, outBatch, batch);
    int64_t bMatrix = broadcastSource(bBatch, outBatch, batch);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0, scale = 0;
        for (int64_t p = 0; p < k; ++p) {
          double term =
              a[aMatrix * m * k + i * k + p] * b[bMatrix * k * n + p * n + j];
          sum += term;
          scale += std::fabs(term);
        }
        reference.values.push_back(sum);
        reference.scale.push_back(scale);
      }
  }
  return reference;
}

void expectMatMulF32(const Shape &aShape, const Shape &bShape,
                     const Shape &outShape) {
  Tensor a = randomF32(aShape, 31), b = randomF32(bShape, 32);
  Tensor out(DType::F32, outShape);
  cpu::matmul(a.ref(), b.ref(), out.ref());
  Reference reference =
      naiveMatMul(a.asDoubles(), aShape, b.asDoubles(), bShape, outShape);
  ASSERT_EQ(static_cast<int64_t>(reference.values.size()), out.size());
  for (int64_t i = 0; i < out.size(); ++i)
    ASSERT_NEAR(out.data<float>()[i], reference.values[i],
                1e-5 * reference.scale[i] + 1e-6)
        << formatShape(aShape) << " x " << formatShape(bShape) << " at " << i;
}

TEST(MatMulTest, TinyLiteral) {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = f32({3, 2}, {7, 8, 9, 10, 11, 12});
  Tensor out(DType::F32, {2, 2});
  cpu::matmul(a.ref(), b.ref(), out.ref());
  EXPECT_EQ(out.values<float>(), (std::vector<float>{58, 64, 139, 154}));
}

TEST(MatMulTest, TwoDimensionalRhsCollapsesBatch) {
  expectMatMulF32({2, 3, 4, 5}, {5, 6}, {2, 3, 4, 6});
  expectMatMulF32({3, 7, 16}, {1, 16, 9}, {3, 7, 9}); // unit batch rhs
  expectMatMulF32({64, 48}, {48, 80}, {64, 80});
}

TEST(MatMulTest, BatchedAndBroadcastBatches) {
  expectMatMulF32({2, 4, 3, 5}, {2, 4, 5, 6}, {2, 4, 3, 6}); // same batch
  expectMatMulF32({2, 1, 3, 4}, {3, 4, 5}, {2, 3, 3, 5});    // both broadcast
  expectMatMulF32({4, 5}, {2, 5, 3}, {2, 4, 3});             // lhs broadcast
  expectMatMulF32({2, 3, 2, 4}, {2, 1, 4, 5}, {2, 3, 2, 5}); // runs share rhs
  expectMatMulF32({1, 3, 2, 4}, {2, 3, 4, 5}, {2, 3, 2, 5});
}

TEST(MatMulTest, HalfPrecision) {
  for (DType type : {DType::F16, DType::BF16}) {
    Shape aShape = {2, 3, 8, 16}, bShape = {3, 16, 5}, outShape = {2, 3, 8, 5};
    std::vector<float> av = randomFloats(numElements(aShape), 41);
    std::vector<float> bv = randomFloats(numElements(bShape), 42);
    Tensor a = make(type, aShape, std::vector<double>(av.begin(), av.end()));
    Tensor b = make(type, bShape, std::vector<double>(bv.begin(), bv.end()));
    Tensor out(type, outShape);
    cpu::matmul(a.ref(), b.ref(), out.ref());
    Reference reference =
        naiveMatMul(a.asDoubles(), aShape, b.asDoubles(), bShape, outShape);
    // One unit in the last place of the result (plus a little for f32
    // summation): 2^-10 relative for f16, 2^-7 for bf16.
    double unit =
        type == DType::F16 ? std::ldexp(1.0, -10) : std::ldexp(1.0, -7);
    std::vector<double> got = out.asDoubles();
    for (int64_t i = 0; i < out.size(); ++i)
      ASSERT_NEAR(got[i], reference.values[i],
                  unit * std::fabs(reference.values[i]) +
                      1e-5 * reference.scale[i] + 1e-6)
          << dtypeName(type) << " at " << i;
  }
  // Exact small integers stay exact.
  Tensor a = make(DType::F16, {1, 2}, {3, 4}),
         b = make(DType::F16, {2, 1}, {5, 6});
  Tensor out(DType::F16, {1, 1});
  cpu::matmul(a.ref(), b.ref(), out.ref());
  EXPECT_EQ(out.asDoubles(), (std::vector<double>{39}));
}

TEST(MatMulTest, Integers) {
  Tensor a = i64({2, 2, 2}, {1, 2, 3, 4, -1, 0, 0, -1});
  Tensor b = i64({2, 1}, {10, 100});
  Tensor out(DType::I64, {2, 2, 1});
  cpu::matmul(a.ref(), b.ref(), out.ref());
  EXPECT_EQ(out.values<int64_t>(), (std::vector<int64_t>{210, 430, -10, -100}));
  Tensor c = i32({1, 3}, {1, 2, 3}),
         d = i32({2, 3, 2}, {1, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2});
  Tensor out32(DType::I32, {2, 1, 2});
  cpu::matmul(c.ref(), d.ref(), out32.ref());
  EXPECT_EQ(out32.values<int32_t>(), (std::vector<int32_t>{4, 5, 12, 12}));
}

TEST(MatMulTest, EmptyContractionGivesZeros) {
  Tensor a(DType::F32, {2, 0}), b(DType::F32, {0, 3});
  Tensor out = f32({2, 3}, {1, 1, 1, 1, 1, 1});
  cpu::matmul(a.ref(), b.ref(), out.ref());
  EXPECT_EQ(out.values<float>(), std::vector<float>(6, 0.0f));
}

} // namespace
