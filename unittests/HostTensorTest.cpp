//===- HostTensorTest.cpp - tests of the folding tensor helper ------------===//

#include "parc/Dialect/Parc/IR/HostTensor.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::parc;

namespace {

TEST(HostTensorTest, StridesAreRowMajor) {
  EXPECT_EQ(HostTensor::strides({2, 3, 4}), (SmallVector<int64_t>{12, 4, 1}));
  EXPECT_EQ(HostTensor::strides({}), (SmallVector<int64_t>{}));
}

TEST(HostTensorTest, BroadcastIndexRepeatsSizeOneDims) {
  // A [3, 1] tensor broadcast to [3, 4]: every element of row r comes from element r.
  for (int64_t i = 0; i < 12; ++i)
    EXPECT_EQ(HostTensor::broadcastIndex({3, 1}, {3, 4}, i), i / 4);
  // A [4] tensor broadcast to [3, 4]: element i comes from column i % 4.
  for (int64_t i = 0; i < 12; ++i)
    EXPECT_EQ(HostTensor::broadcastIndex({4}, {3, 4}, i), i % 4);
  // A scalar feeds every element.
  EXPECT_EQ(HostTensor::broadcastIndex({}, {3, 4}, 7), 0);
}

TEST(HostTensorTest, RoundTripsThroughAttributes) {
  MLIRContext context;
  Builder b(&context);
  auto ints = RankedTensorType::get({3}, b.getI64Type());
  auto attr = DenseElementsAttr::get(ints, ArrayRef<int64_t>{7, -1, INT64_MAX});
  std::optional<HostTensor> tensor = HostTensor::fromAttr(attr);
  ASSERT_TRUE(tensor);
  EXPECT_FALSE(tensor->isFloat());
  // Integers keep all 64 bits (Slice ends are often INT64_MAX).
  EXPECT_EQ(tensor->getInt(2), INT64_MAX);
  EXPECT_EQ(tensor->toAttr(), attr);

  auto halves = RankedTensorType::get({2}, b.getF16Type());
  HostTensor h(halves);
  h.setFloat(0, 1.0 / 3.0);
  h.setFloat(1, 65504.0);
  DenseElementsAttr packed = h.toAttr();
  auto values = llvm::to_vector(packed.getValues<APFloat>());
  // 1/3 rounds to the nearest f16 once.
  EXPECT_EQ(values[0].convertToFloat(), 0.333251953125f);
  EXPECT_EQ(values[1].convertToFloat(), 65504.0f);
}

TEST(HostTensorTest, BoolsAreZeroOrOne) {
  MLIRContext context;
  Builder b(&context);
  auto type = RankedTensorType::get({2}, b.getI1Type());
  auto attr = DenseElementsAttr::get(type, ArrayRef<bool>{true, false});
  std::optional<HostTensor> tensor = HostTensor::fromAttr(attr);
  ASSERT_TRUE(tensor);
  EXPECT_EQ(tensor->getInt(0), 1);
  EXPECT_EQ(tensor->getInt(1), 0);
}

TEST(HostTensorTest, RefusesLargeTensors) {
  MLIRContext context;
  Builder b(&context);
  auto type = RankedTensorType::get({kMaxFoldedElements + 1}, b.getF32Type());
  EXPECT_FALSE(HostTensor::fromAttr(DenseElementsAttr::get(type, 1.0f)));
}

} // namespace
