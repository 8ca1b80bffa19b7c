//===- DataMovementTest.cpp - transpose, slice, concat, gather, broadcast -===//
//
// Data movement is exact: every case compares bit for bit with literals or with
// a naive loop over output coordinates.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "TestUtils.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

/// A tensor of `type` whose elements are distinct where the type allows: the
/// value i for f32 and integers, the bit pattern i (kept finite) for f16 and
/// bf16, and a pseudo-random 0/1 pattern for bool.
Tensor iota(DType type, const Shape &shape) {
  Tensor tensor(type, shape);
  for (int64_t i = 0; i < tensor.size(); ++i) {
    switch (type) {
    case DType::F32:
      tensor.data<float>()[i] = static_cast<float>(i);
      break;
    case DType::F16:
    case DType::BF16:
      tensor.data<uint16_t>()[i] = static_cast<uint16_t>(i % 0x7800);
      break;
    case DType::I64:
      tensor.data<int64_t>()[i] = i;
      break;
    case DType::I32:
      tensor.data<int32_t>()[i] = static_cast<int32_t>(i);
      break;
    case DType::Bool:
      tensor.data<uint8_t>()[i] = ((uint64_t(i) * 2654435761u) >> 7) & 1;
      break;
    }
  }
  return tensor;
}

void expectTranspose(DType type, const Shape &shape,
                     const std::vector<int64_t> &permutation) {
  Tensor in = iota(type, shape);
  Shape outShape;
  for (int64_t axis : permutation)
    outShape.push_back(shape[axis]);
  Tensor out(type, outShape);
  cpu::transpose(in.ref(), permutation, out.ref());
  std::vector<int64_t> inStrides = stridesOf(shape);
  size_t size = dtypeSize(type);
  for (int64_t i = 0; i < out.size(); ++i) {
    std::vector<int64_t> coordinates = coordinatesOf(outShape, i);
    int64_t source = 0;
    for (size_t d = 0; d < permutation.size(); ++d)
      source += coordinates[d] * inStrides[permutation[d]];
    ASSERT_EQ(std::memcmp(out.bytes.data() + i * size,
                          in.bytes.data() + source * size, size),
              0)
        << dtypeName(type) << " " << formatShape(shape) << " element " << i;
  }
}

TEST(DataMovementTest, Transpose2DLiteral) {
  Tensor in = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor out(DType::F32, {3, 2});
  cpu::transpose(in.ref(), {1, 0}, out.ref());
  EXPECT_EQ(out.values<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(DataMovementTest, TransposeEveryPermutationOf4D) {
  std::vector<int64_t> permutation = {0, 1, 2, 3};
  do {
    expectTranspose(DType::F32, {2, 3, 4, 5}, permutation);
  } while (std::next_permutation(permutation.begin(), permutation.end()));
}

TEST(DataMovementTest, TransposeCommonCasesAndElementSizes) {
  for (DType type : {DType::F32, DType::F16, DType::I64, DType::Bool}) {
    expectTranspose(type, {2, 5, 3, 8}, {0, 2, 1, 3}); // attention heads
    expectTranspose(type, {37, 45}, {1, 0});           // tiles with edges
  }
  expectTranspose(DType::F32, {1, 4, 1, 3}, {2, 3, 0, 1}); // unit dims
  expectTranspose(DType::F32, {}, {});
  for (int threads : {1, 4}) {
    cpu::setCpuThreads(threads);
    expectTranspose(DType::F32, {300, 200}, {1, 0});
    expectTranspose(DType::F32, {4, 64, 12, 16}, {0, 2, 1, 3});
    expectTranspose(DType::F32, {4, 12, 64, 16}, {0, 1, 3, 2});
  }
  cpu::setCpuThreads(2);
}

TEST(DataMovementTest, Concat) {
  Tensor a = f32({2, 1}, {1, 2}), b = f32({2, 2}, {3, 4, 5, 6}),
         c = f32({2, 1}, {7, 8});
  Tensor out(DType::F32, {2, 4});
  cpu::concat({a.ref(), b.ref(), c.ref()}, 1, out.ref());
  EXPECT_EQ(out.values<float>(), (std::vector<float>{1, 3, 4, 7, 2, 5, 6, 8}));
  Tensor x = i64({1, 2}, {1, 2}), y = i64({2, 2}, {3, 4, 5, 6});
  Tensor rows(DType::I64, {3, 2});
  cpu::concat({x.ref(), y.ref()}, 0, rows.ref());
  EXPECT_EQ(rows.values<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  // Middle axis of a 3-D tensor, with an empty input.
  Tensor p = iota(DType::I32, {2, 1, 3}), q = iota(DType::I32, {2, 2, 3}),
         empty(DType::I32, {2, 0, 3});
  Tensor mid(DType::I32, {2, 3, 3});
  cpu::concat({p.ref(), empty.ref(), q.ref()}, 1, mid.ref());
  EXPECT_EQ(mid.values<int32_t>(),
            (std::vector<int32_t>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8,
                                  9, 10, 11}));
}

TEST(DataMovementTest, Slice) {
  Tensor in = iota(DType::F32, {4, 6});
  // Rows 1..3, columns 0, 2, 4.
  Tensor out(DType::F32, {3, 3});
  cpu::slice(in.ref(), {1, 0}, {1, 2}, out.ref());
  EXPECT_EQ(out.values<float>(),
            (std::vector<float>{6, 8, 10, 12, 14, 16, 18, 20, 22}));
  // Rows 0 and 2, columns 3..5 (contiguous runs).
  Tensor runs(DType::F32, {2, 3});
  cpu::slice(in.ref(), {0, 3}, {2, 1}, runs.ref());
  EXPECT_EQ(runs.values<float>(), (std::vector<float>{3, 4, 5, 15, 16, 17}));
  // A 3-D slice of a larger tensor against a naive loop.
  Shape shape = {5, 40, 300};
  Tensor big = iota(DType::I32, shape);
  std::vector<int64_t> starts = {1, 3, 7}, strides = {2, 3, 1};
  Shape outShape = {2, 12, 280};
  Tensor sliced(DType::I32, outShape);
  cpu::setCpuThreads(4);
  cpu::slice(big.ref(), starts, strides, sliced.ref());
  cpu::setCpuThreads(2);
  std::vector<int64_t> inStrides = stridesOf(shape);
  for (int64_t i = 0; i < sliced.size(); ++i) {
    std::vector<int64_t> coordinates = coordinatesOf(outShape, i);
    int64_t source = 0;
    for (int d = 0; d < 3; ++d)
      source += (starts[d] + coordinates[d] * strides[d]) * inStrides[d];
    ASSERT_EQ(sliced.data<int32_t>()[i], big.data<int32_t>()[source]) << i;
  }
}

TEST(DataMovementTest, GatherRowsWithNegativeIndices) {
  Tensor table = f32({4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
  Tensor indices = i64({2, 2}, {3, -4, -1, 1});
  Tensor out(DType::F32, {2, 2, 2});
  ASSERT_TRUE(cpu::gather(table.ref(), indices.ref(), 0, out.ref()).isOk());
  EXPECT_EQ(out.values<float>(),
            (std::vector<float>{30, 31, 0, 1, 30, 31, 10, 11}));
}

TEST(DataMovementTest, ScatterAddAccumulatesRepeatedIndices) {
  // The adjoint of gathering rows {3, 0, 3} of a 4x2 table: row 3 gets two updates.
  Tensor updates = f32({3, 2}, {1, 2, 10, 20, 100, 200});
  Tensor indices = i64({3}, {3, 0, -1});
  Tensor out(DType::F32, {4, 2});
  ASSERT_TRUE(cpu::scatterAdd(updates.ref(), indices.ref(), 0, out.ref()).isOk());
  EXPECT_EQ(out.values<float>(), (std::vector<float>{10, 20, 0, 0, 0, 0, 101, 202}));
  Tensor outOfRange = i64({3}, {3, 0, 4});
  EXPECT_FALSE(cpu::scatterAdd(updates.ref(), outOfRange.ref(), 0, out.ref()).isOk());
}

TEST(DataMovementTest, GatherInnerAxisWithI32Indices) {
  Tensor in = iota(DType::I64, {2, 3, 2});
  Tensor indices = i32({2}, {2, 0});
  Tensor out(DType::I64, {2, 2, 2});
  ASSERT_TRUE(cpu::gather(in.ref(), indices.ref(), 1, out.ref()).isOk());
  EXPECT_EQ(out.values<int64_t>(),
            (std::vector<int64_t>{4, 5, 0, 1, 10, 11, 6, 7}));
  // Scalar index: the axis disappears.
  Tensor scalar = i64({}, {-1});
  Tensor last(DType::I64, {2, 3});
  ASSERT_TRUE(cpu::gather(in.ref(), scalar.ref(), 2, last.ref()).isOk());
  EXPECT_EQ(last.values<int64_t>(), (std::vector<int64_t>{1, 3, 5, 7, 9, 11}));
}

TEST(DataMovementTest, GatherOutOfRangeIsAnError) {
  Tensor table = iota(DType::F32, {5, 2});
  Tensor out(DType::F32, {2, 2});
  for (int64_t bad : {5, -6, 1000}) {
    Tensor indices = i64({2}, {0, bad});
    Status status = cpu::gather(table.ref(), indices.ref(), 0, out.ref());
    ASSERT_FALSE(status.isOk());
    EXPECT_EQ(status.message(), "gather: index " + std::to_string(bad) +
                                    " is out of range for a dim of size 5");
  }
}

TEST(DataMovementTest, BroadcastTo) {
  Tensor column = f32({3, 1}, {1, 2, 3});
  Tensor out(DType::F32, {2, 3, 2});
  cpu::broadcastTo(column.ref(), out.ref());
  EXPECT_EQ(out.values<float>(),
            (std::vector<float>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  Tensor scalar = boolean({}, {1});
  Tensor flags(DType::Bool, {5});
  cpu::broadcastTo(scalar.ref(), flags.ref());
  EXPECT_EQ(flags.values<uint8_t>(), std::vector<uint8_t>(5, 1));
  Tensor row = make(DType::F16, {1, 3}, {1, 2, 3});
  Tensor rows(DType::F16, {2, 3});
  cpu::broadcastTo(row.ref(), rows.ref());
  EXPECT_EQ(rows.asDoubles(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
}

TEST(DataMovementTest, Copy) {
  Tensor in = iota(DType::I64, {3, 5});
  Tensor out(DType::I64, {15});
  cpu::copy(in.ref(), out.ref());
  EXPECT_EQ(out.bytes, in.bytes);
  Tensor large = randomF32({200000}, 71), largeOut(DType::F32, {200000});
  cpu::setCpuThreads(4);
  cpu::copy(large.ref(), largeOut.ref());
  cpu::setCpuThreads(2);
  EXPECT_EQ(largeOut.bytes, large.bytes);
}

} // namespace

namespace {

TEST(DataMovementTest, GatherElementsAlongEachAxis) {
  // ONNX's own example: data [[1, 2], [3, 4]], indices [[0, 0], [1, 0]].
  Tensor data = f32({2, 2}, {1, 2, 3, 4});
  Tensor indices = i64({2, 2}, {0, 0, 1, 0});
  Tensor out(DType::F32, {2, 2});
  ASSERT_TRUE(cpu::gatherElements(data.ref(), indices.ref(), 1, out.ref()).isOk());
  EXPECT_EQ(out.values<float>(), (std::vector<float>{1, 1, 4, 3}));
  // Axis 0 with a negative index and fewer rows than the data.
  Tensor rows = i64({1, 2}, {-1, 0});
  Tensor picked(DType::F32, {1, 2});
  ASSERT_TRUE(cpu::gatherElements(data.ref(), rows.ref(), 0, picked.ref()).isOk());
  EXPECT_EQ(picked.values<float>(), (std::vector<float>{3, 2}));
}

TEST(DataMovementTest, GatherElementsRejectsOutOfRangeIndices) {
  Tensor data = f32({2, 2}, {1, 2, 3, 4});
  Tensor out(DType::F32, {1, 1});
  Status status =
      cpu::gatherElements(data.ref(), i64({1, 1}, {2}).ref(), 0, out.ref());
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.message(), "gather: index 2 is out of range for a dim of size 2");
}

} // namespace
