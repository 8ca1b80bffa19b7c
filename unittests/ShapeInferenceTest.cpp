//===- ShapeInferenceTest.cpp - tests of parc result-type inference -------===//

#include "parc/Dialect/Parc/IR/ParcShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::parc;

namespace {

/// Collects the diagnostics an inference reports.
class ShapeInferenceTest : public ::testing::Test {
protected:
  ShapeInferenceTest()
      : handler(&context, [this](Diagnostic &diag) {
          messages.push_back(diag.str());
          return success();
        }) {}

  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, Float32Type::get(&context));
  }

  MLIRContext context;
  ScopedDiagnosticHandler handler;
  std::vector<std::string> messages;
};

TEST_F(ShapeInferenceTest, BroadcastFollowsNumpy) {
  auto shape = inferBroadcastShape({{2, 1, 4}, {3, 1}, {}},
                                   [this] { return emitError(UnknownLoc::get(&context)); });
  ASSERT_TRUE(succeeded(shape));
  EXPECT_EQ(*shape, (SmallVector<int64_t>{2, 3, 4}));
  EXPECT_TRUE(messages.empty());
}

TEST_F(ShapeInferenceTest, BroadcastMismatchIsReported) {
  auto shape = inferBroadcastShape({{2, 3}, {4}},
                                   [this] { return emitError(UnknownLoc::get(&context)); });
  EXPECT_TRUE(failed(shape));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "shapes 2x3 4 do not broadcast together");
}

TEST_F(ShapeInferenceTest, MatMulBroadcastsBatchDims) {
  auto type = inferMatMulType(f32({8, 1, 16, 32}), f32({4, 32, 64}),
                              [this] { return emitError(UnknownLoc::get(&context)); });
  ASSERT_TRUE(succeeded(type));
  EXPECT_EQ(type->getShape(), (ArrayRef<int64_t>{8, 4, 16, 64}));
}

TEST_F(ShapeInferenceTest, ReduceKeepsOrDropsDims) {
  auto kept = inferReduceType(f32({2, 3, 4}), {1, 2}, true,
                              [this] { return emitError(UnknownLoc::get(&context)); });
  auto dropped = inferReduceType(f32({2, 3, 4}), {1, 2}, false,
                                 [this] { return emitError(UnknownLoc::get(&context)); });
  ASSERT_TRUE(succeeded(kept) && succeeded(dropped));
  EXPECT_EQ(kept->getShape(), (ArrayRef<int64_t>{2, 1, 1}));
  EXPECT_EQ(dropped->getShape(), (ArrayRef<int64_t>{2}));
}

TEST_F(ShapeInferenceTest, SliceRoundsUpStridedSizes) {
  auto type = inferSliceType(f32({10, 4}), {1, 0}, {10, 4}, {4, 1},
                             [this] { return emitError(UnknownLoc::get(&context)); });
  ASSERT_TRUE(succeeded(type));
  // Rows 1, 5 and 9.
  EXPECT_EQ(type->getShape(), (ArrayRef<int64_t>{3, 4}));
}

TEST_F(ShapeInferenceTest, GatherSplicesIndexShape) {
  auto indices = RankedTensorType::get({5, 6}, IntegerType::get(&context, 64));
  auto type = inferGatherType(f32({2, 3, 4}), indices, 1,
                              [this] { return emitError(UnknownLoc::get(&context)); });
  ASSERT_TRUE(succeeded(type));
  EXPECT_EQ(type->getShape(), (ArrayRef<int64_t>{2, 5, 6, 4}));
}

TEST_F(ShapeInferenceTest, ConcatChecksOtherDims) {
  auto good = inferConcatType({f32({2, 3}), f32({2, 5})}, 1,
                              [this] { return emitError(UnknownLoc::get(&context)); });
  ASSERT_TRUE(succeeded(good));
  EXPECT_EQ(good->getShape(), (ArrayRef<int64_t>{2, 8}));
  auto bad = inferConcatType({f32({2, 3}), f32({4, 3})}, 1,
                             [this] { return emitError(UnknownLoc::get(&context)); });
  EXPECT_TRUE(failed(bad));
  EXPECT_EQ(messages.size(), 1u);
}

TEST_F(ShapeInferenceTest, TransposeRejectsRepeatedDims) {
  auto bad = inferTransposeType(f32({2, 3}), {1, 1},
                                [this] { return emitError(UnknownLoc::get(&context)); });
  EXPECT_TRUE(failed(bad));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "permutation [1, 1] is not a permutation of the 2 dims");
}

} // namespace
