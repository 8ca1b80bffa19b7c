//===- ReductionsTest.cpp - sum, mean, max and softmax --------------------===//
//
// Expected values: literals for tiny inputs, otherwise naive loops in double
// precision over input coordinates. Tolerance for f32 sums and means: 1e-5
// relative to the sum of absolute values reduced (+1e-6), which bounds the
// rounding of any summation order; max is exact; softmax: 1e-6 absolute on
// probabilities, 1e-5 on log-probabilities.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "TestUtils.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace parc::rt;
using namespace parc::rt::test;
using cpu::ReduceOp;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// The kept shape (reduced dims as 1) of `shape` reduced over `axes`.
Shape keptShape(Shape shape, const std::vector<int64_t> &axes) {
  for (int64_t axis : axes)
    shape[axis] = 1;
  return shape;
}

/// Naive reduction in double: per output element, value and sum of |x|.
void naiveReduce(ReduceOp op, const std::vector<double> &in, const Shape &shape,
                 const std::vector<int64_t> &axes, std::vector<double> &values,
                 std::vector<double> &scale) {
  Shape kept = keptShape(shape, axes);
  std::vector<int64_t> keptStrides = stridesOf(kept);
  int64_t outSize = numElements(kept);
  values.assign(outSize, op == ReduceOp::Max
                             ? -std::numeric_limits<double>::infinity()
                             : 0.0);
  scale.assign(outSize, 0.0);
  for (int64_t i = 0; i < numElements(shape); ++i) {
    std::vector<int64_t> coordinates = coordinatesOf(shape, i);
    int64_t out = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      if (kept[d] != 1)
        out += coordinates[d] * keptStrides[d];
    if (op == ReduceOp::Max)
      values[out] = std::max(values[out], in[i]);
    else
      values[out] += in[i];
    scale[out] += std::fabs(in[i]);
  }
  if (op == ReduceOp::Mean) {
    int64_t count = numElements(shape) / outSize;
    for (int64_t i = 0; i < outSize; ++i) {
      values[i] /= count;
      scale[i] /= count;
    }
  }
}

void expectReduceF32(ReduceOp op, const Shape &shape,
                     const std::vector<int64_t> &axes, bool keepDims) {
  Tensor in = randomF32(shape, 51);
  Shape outShape;
  for (size_t d = 0; d < shape.size(); ++d) {
    bool reduced = std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced)
      outShape.push_back(shape[d]);
    else if (keepDims)
      outShape.push_back(1);
  }
  Tensor out(DType::F32, outShape);
  cpu::reduce(op, in.ref(), axes, out.ref());
  std::vector<double> values, scale;
  naiveReduce(op, in.asDoubles(), shape, axes, values, scale);
  ASSERT_EQ(static_cast<int64_t>(values.size()), out.size());
  for (int64_t i = 0; i < out.size(); ++i)
    ASSERT_NEAR(out.data<float>()[i], values[i], 1e-5 * scale[i] + 1e-6)
        << "op " << static_cast<int>(op) << " over " << formatShape(shape)
        << " at " << i;
}

TEST(ReductionsTest, TinyLiterals) {
  Tensor in = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  auto run = [&](ReduceOp op, std::vector<int64_t> axes, Shape outShape) {
    Tensor out(DType::F32, outShape);
    cpu::reduce(op, in.ref(), axes, out.ref());
    return out.values<float>();
  };
  EXPECT_EQ(run(ReduceOp::Sum, {0}, {3}), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(run(ReduceOp::Sum, {1}, {2, 1}), (std::vector<float>{6, 15}));
  EXPECT_EQ(run(ReduceOp::Sum, {0, 1}, {}), (std::vector<float>{21}));
  EXPECT_EQ(run(ReduceOp::Mean, {1}, {2}), (std::vector<float>{2, 5}));
  EXPECT_EQ(run(ReduceOp::Mean, {0}, {1, 3}),
            (std::vector<float>{2.5f, 3.5f, 4.5f}));
  EXPECT_EQ(run(ReduceOp::Max, {0}, {3}), (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(run(ReduceOp::Max, {0, 1}, {1, 1}), (std::vector<float>{6}));
}

TEST(ReductionsTest, AxisCombinations) {
  std::vector<std::vector<int64_t>> axesList = {
      {3}, {0}, {1, 2}, {0, 2}, {1, 3}, {0, 3}, {0, 1, 2, 3}, {2}, {0, 1}};
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max})
    for (const std::vector<int64_t> &axes : axesList)
      for (bool keepDims : {false, true})
        expectReduceF32(op, {4, 5, 6, 7}, axes, keepDims);
}

TEST(ReductionsTest, LargeInputsAcrossThreads) {
  for (int threads : {1, 4}) {
    cpu::setCpuThreads(threads);
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max}) {
      expectReduceF32(op, {300, 257}, {1}, true);
      expectReduceF32(op, {300, 257}, {0}, false);
      expectReduceF32(op, {100003}, {0}, false);
      expectReduceF32(op, {40, 50, 30}, {1}, false);
    }
  }
  cpu::setCpuThreads(2);
}

TEST(ReductionsTest, UnitAxesOnlyCopy) {
  expectReduceF32(ReduceOp::Sum, {3, 1, 4}, {1}, false);
  expectReduceF32(ReduceOp::Mean, {1, 1}, {0, 1}, true);
}

TEST(ReductionsTest, MaxPropagatesNaN) {
  Tensor in = f32({2, 3}, {1, kNaN, 3, 4, 5, 6});
  Tensor rows(DType::F32, {2}), columns(DType::F32, {3});
  cpu::reduce(ReduceOp::Max, in.ref(), {1}, rows.ref());
  EXPECT_TRUE(std::isnan(rows.data<float>()[0]));
  EXPECT_EQ(rows.data<float>()[1], 6.0f);
  cpu::reduce(ReduceOp::Max, in.ref(), {0}, columns.ref());
  EXPECT_EQ(columns.data<float>()[0], 4.0f);
  EXPECT_TRUE(std::isnan(columns.data<float>()[1]));
  EXPECT_EQ(columns.data<float>()[2], 6.0f);
}

TEST(ReductionsTest, Integers) {
  Tensor in = i64({2, 3}, {1, 2, 4, -7, 5, 6});
  Tensor sum(DType::I64, {2}), mean(DType::I64, {2}), max(DType::I64, {3});
  cpu::reduce(ReduceOp::Sum, in.ref(), {1}, sum.ref());
  EXPECT_EQ(sum.values<int64_t>(), (std::vector<int64_t>{7, 4}));
  cpu::reduce(ReduceOp::Mean, in.ref(), {1}, mean.ref());
  EXPECT_EQ(mean.values<int64_t>(), (std::vector<int64_t>{2, 1})); // truncates
  cpu::reduce(ReduceOp::Max, in.ref(), {0}, max.ref());
  EXPECT_EQ(max.values<int64_t>(), (std::vector<int64_t>{1, 5, 6}));
  // i32 means divide the true (i64) sum.
  Tensor big = i32({2}, {2000000000, 2000000000}), bigMean(DType::I32, {});
  cpu::reduce(ReduceOp::Mean, big.ref(), {0}, bigMean.ref());
  EXPECT_EQ(bigMean.data<int32_t>()[0], 2000000000);
}

TEST(ReductionsTest, HalfPrecisionRoundsTheF32Result) {
  // 1 + 2^-11 + 2^-11 is exact in f32 (1 + 2^-10) but the second addend
  // alone would round away in f16 arithmetic.
  Tensor in =
      make(DType::F16, {3}, {1, std::ldexp(1.0, -11), std::ldexp(1.0, -11)});
  Tensor out(DType::F16, {});
  cpu::reduce(ReduceOp::Sum, in.ref(), {0}, out.ref());
  EXPECT_EQ(out.data<uint16_t>()[0], 0x3c01);
  Tensor bf = make(DType::BF16, {2, 2}, {1, 2, 3, 5});
  Tensor bfMean(DType::BF16, {2});
  cpu::reduce(ReduceOp::Mean, bf.ref(), {1}, bfMean.ref());
  EXPECT_EQ(bfMean.asDoubles(), (std::vector<double>{1.5, 4}));
}

/// Naive softmax along `axis` in double.
std::vector<double> naiveSoftmax(const std::vector<double> &in,
                                 const Shape &shape, int64_t axis,
                                 bool logarithm) {
  std::vector<int64_t> strides = stridesOf(shape);
  std::vector<double> out(in.size());
  for (int64_t i = 0; i < numElements(shape); ++i) {
    std::vector<int64_t> coordinates = coordinatesOf(shape, i);
    int64_t base = i - coordinates[axis] * strides[axis];
    double max = -std::numeric_limits<double>::infinity(), sum = 0;
    for (int64_t l = 0; l < shape[axis]; ++l)
      max = std::max(max, in[base + l * strides[axis]]);
    for (int64_t l = 0; l < shape[axis]; ++l)
      sum += std::exp(in[base + l * strides[axis]] - max);
    out[i] =
        logarithm ? in[i] - max - std::log(sum) : std::exp(in[i] - max) / sum;
  }
  return out;
}

void expectSoftmax(const Shape &shape, int64_t axis, bool logarithm) {
  Tensor in = f32(shape, randomFloats(numElements(shape), 61, -5.0f, 5.0f));
  Tensor out(DType::F32, shape);
  cpu::softmax(in.ref(), axis, logarithm, out.ref());
  std::vector<double> expected =
      naiveSoftmax(in.asDoubles(), shape, axis, logarithm);
  for (int64_t i = 0; i < out.size(); ++i)
    ASSERT_NEAR(out.data<float>()[i], expected[i], logarithm ? 1e-5 : 1e-6)
        << formatShape(shape) << " axis " << axis << " at " << i;
}

TEST(ReductionsTest, SoftmaxLiteral) {
  Tensor in = f32({1, 3}, {1, 2, 3});
  Tensor out(DType::F32, {1, 3});
  cpu::softmax(in.ref(), 1, false, out.ref());
  // exp(k) / (e + e^2 + e^3), computed in double precision.
  std::vector<double> expected = {0.09003057317038046, 0.24472847105479767,
                                  0.6652409557748219};
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(out.data<float>()[i], expected[i], 1e-6);
  cpu::softmax(in.ref(), 1, true, out.ref());
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(out.data<float>()[i], std::log(expected[i]), 1e-6);
}

TEST(ReductionsTest, SoftmaxAnyAxis) {
  for (bool logarithm : {false, true}) {
    expectSoftmax({2, 3, 4}, 2, logarithm); // last axis
    expectSoftmax({2, 3, 4}, 1, logarithm); // middle axis
    expectSoftmax({2, 3, 4}, 0, logarithm); // first axis
    expectSoftmax({5}, 0, logarithm);
    expectSoftmax({3, 7, 300}, 1, logarithm); // column blocks of 256 + 44
  }
}

TEST(ReductionsTest, SoftmaxIsStableAndThreaded) {
  Tensor in = f32({2}, {1000, 1001});
  Tensor out(DType::F32, {2});
  cpu::softmax(in.ref(), 0, false, out.ref());
  EXPECT_NEAR(out.data<float>()[0], 0.2689414213699951, 1e-6);
  EXPECT_NEAR(out.data<float>()[1], 0.7310585786300049, 1e-6);
  cpu::setCpuThreads(4);
  expectSoftmax({64, 16, 128}, 2, false);
  expectSoftmax({16, 128, 64}, 1, true);
  cpu::setCpuThreads(2);
}

TEST(ReductionsTest, SoftmaxHalfPrecision) {
  Tensor in = make(DType::BF16, {2, 2}, {0, 0, 1, 3});
  Tensor out(DType::BF16, {2, 2});
  cpu::softmax(in.ref(), 1, false, out.ref());
  std::vector<double> expected = {0.5, 0.5, 0.11920292202211755,
                                  0.8807970779778823};
  std::vector<double> got = out.asDoubles();
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(got[i], bf16ToFloat(floatToBf16(static_cast<float>(expected[i]))))
        << i;
}

} // namespace
