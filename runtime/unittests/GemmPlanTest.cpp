//===- GemmPlanTest.cpp - parc's matmul as cuBLASLt GEMM calls ------------===//
//
// planMatmul turns a row-major parc.matmul into one column-major (cuBLAS) GEMM call;
// runGemmOnHost executes such a call by its definition. Each test plans a product,
// runs the call and compares it with the CPU backend's matmul (OpenBLAS) plus the
// epilogue computed here in double precision. Tolerance: 1e-5 relative to the largest
// magnitude (f32), 4e-3 (f16).
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "TestUtils.h"
#include "cuda/GemmPlan.h"

#include "CudaDevice.h"
#include "parc/artifact/artifact.pb.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

double geluTanh(double x) {
  return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

/// Plans lhs x rhs (+ bias, GELU) through planMatmul, runs the call and compares it with
/// cpu::matmul and the epilogue. Returns the planned call for the test to inspect.
GemmCall expectPlannedProduct(const Shape &lhsShape, const Shape &rhsShape,
                              const Shape &outShape, GemmEpilogue epilogue,
                              DType dtype = DType::F32) {
  Tensor lhs = randomF32(lhsShape, 11), rhs = randomF32(rhsShape, 12);
  Tensor bias = randomF32({rhsShape.back()}, 13);
  if (dtype != DType::F32) {
    auto narrow = [&](const Tensor &from) {
      Tensor to(dtype, from.shape);
      cpu::convert(from.ref(), to.ref());
      return to;
    };
    lhs = narrow(lhs);
    rhs = narrow(rhs);
    bias = narrow(bias);
  }
  Tensor planned(dtype, outShape), expected(dtype, outShape);
  TensorRef biasRef = bias.ref();
  GemmCall call;
  Status status = planMatmul(lhs.ref(), rhs.ref(), planned.ref(), epilogue,
                             epilogue == GemmEpilogue::None ? nullptr : &biasRef, call);
  EXPECT_TRUE(status) << status.message();
  if (!status)
    return call;
  Status ran = runGemmOnHost(call);
  EXPECT_TRUE(ran) << ran.message();
  cpu::matmul(lhs.ref(), rhs.ref(), expected.ref());
  std::vector<double> want = expected.asDoubles(), got = planned.asDoubles();
  std::vector<double> biasValues = bias.asDoubles();
  double largest = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (epilogue != GemmEpilogue::None)
      want[i] += biasValues[i % biasValues.size()];
    if (epilogue == GemmEpilogue::BiasGelu)
      want[i] = geluTanh(want[i]);
    largest = std::max(largest, std::fabs(want[i]));
  }
  double tolerance = (dtype == DType::F32 ? 1e-5 : 4e-3) * std::max(1.0, largest);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tolerance) << "element " << i;
  return call;
}

TEST(GemmPlanTest, MatrixTimesMatrixSwapsOperandsForColumnMajor) {
  GemmCall call = expectPlannedProduct({3, 5}, {5, 7}, {3, 7}, GemmEpilogue::None);
  // D^T (7 x 3) = B^T (7 x 5) * A^T (5 x 3).
  EXPECT_EQ(call.m, 7);
  EXPECT_EQ(call.n, 3);
  EXPECT_EQ(call.k, 5);
  EXPECT_EQ(call.lda, 7);
  EXPECT_EQ(call.ldb, 5);
  EXPECT_EQ(call.batch, 1);
}

TEST(GemmPlanTest, WeightOnTheRightFoldsTheBatchIntoOneGemm) {
  GemmCall call = expectPlannedProduct({2, 4, 6}, {6, 5}, {2, 4, 5}, GemmEpilogue::None);
  EXPECT_EQ(call.batch, 1);
  EXPECT_EQ(call.n, 8);
}

TEST(GemmPlanTest, EqualBatchesAreAStridedBatch) {
  GemmCall call =
      expectPlannedProduct({2, 3, 4, 6}, {2, 3, 6, 5}, {2, 3, 4, 5}, GemmEpilogue::None);
  EXPECT_EQ(call.batch, 6);
  EXPECT_EQ(call.strideA, 30);
  EXPECT_EQ(call.strideB, 24);
  EXPECT_EQ(call.strideD, 20);
}

TEST(GemmPlanTest, OneLeftMatrixIsSharedByTheBatch) {
  GemmCall call = expectPlannedProduct({4, 6}, {3, 6, 5}, {3, 4, 5}, GemmEpilogue::None);
  EXPECT_EQ(call.batch, 3);
  EXPECT_EQ(call.strideB, 0);
}

TEST(GemmPlanTest, BiasAndGeluEpilogues) {
  expectPlannedProduct({2, 4, 6}, {6, 5}, {2, 4, 5}, GemmEpilogue::Bias);
  expectPlannedProduct({2, 4, 6}, {6, 5}, {2, 4, 5}, GemmEpilogue::BiasGelu);
  expectPlannedProduct({2, 4, 6}, {2, 6, 5}, {2, 4, 5}, GemmEpilogue::BiasGelu);
}

TEST(GemmPlanTest, HalfPrecision) {
  expectPlannedProduct({2, 4, 16}, {16, 8}, {2, 4, 8}, GemmEpilogue::Bias, DType::F16);
  expectPlannedProduct({4, 16}, {16, 8}, {4, 8}, GemmEpilogue::None, DType::BF16);
}

TEST(GemmPlanTest, PartialBatchBroadcastIsAnError) {
  Tensor lhs(DType::F32, {2, 1, 4, 6}), rhs(DType::F32, {1, 3, 6, 5}),
      out(DType::F32, {2, 3, 4, 5});
  GemmCall call;
  Status status = planMatmul(lhs.ref(), rhs.ref(), out.ref(), GemmEpilogue::None, nullptr, call);
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("2x1x4x6 x 1x3x6x5 is not a strided batch"), std::string::npos)
      << status.message();
}

TEST(GemmPlanTest, LaunchShapes) {
  parc::artifact::CudaKernel row;
  row.set_row(true);
  row.set_rows(96);
  row.set_block_size(256);
  LaunchShape rowShape = launchShapeOf(row, 4);
  EXPECT_EQ(rowShape.blocks, 96); // one block per row, whatever the cap
  parc::artifact::CudaKernel strided;
  strided.set_elements(10000);
  strided.set_block_size(256);
  EXPECT_EQ(launchShapeOf(strided, 1000).blocks, 40);
  EXPECT_EQ(launchShapeOf(strided, 8).blocks, 8); // the loop strides over the rest
  strided.set_vectorized(true);
  EXPECT_EQ(launchShapeOf(strided, 1000).blocks, 10); // float4: a quarter of the work
  strided.set_lanes(8); // 16-byte steps of f16: an eighth, whatever `vectorized` says
  EXPECT_EQ(launchShapeOf(strided, 1000).blocks, 5);
}

TEST(GpuPlacementTest, RanksShareGpusOnlyWhenTheyOutnumberThem) {
  EXPECT_EQ(placeRankOnGpu(3, 4, 4).ordinal, 3);
  EXPECT_FALSE(placeRankOnGpu(3, 4, 4).stageThroughHost);
  EXPECT_EQ(placeRankOnGpu(3, 4, 2).ordinal, 1);
  EXPECT_TRUE(placeRankOnGpu(3, 4, 2).stageThroughHost);
  EXPECT_TRUE(placeRankOnGpu(0, 2, 1).stageThroughHost);
}

} // namespace
