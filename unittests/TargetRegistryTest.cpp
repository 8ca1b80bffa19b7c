//===- TargetRegistryTest.cpp - targets found by name ---------------------===//

#include "parc/Target/Target.h"

#include <gtest/gtest.h>

using namespace mlir::parc;

TEST(TargetRegistry, FindsTheBuiltInTargetsByName) {
  const Target *cpu = lookupTarget("cpu");
  const Target *cuda = lookupTarget("cuda");
  ASSERT_NE(cpu, nullptr);
  ASSERT_NE(cuda, nullptr);
  EXPECT_EQ(cpu->getName(), "cpu");
  EXPECT_EQ(cuda->getName(), "cuda");
  EXPECT_EQ(lookupTarget("tpu"), nullptr);
  EXPECT_EQ(describeTargetNames(), "cpu or cuda");
}

TEST(TargetRegistry, TargetsSayWhatThePipelineDoesForThem) {
  // A GPU runs fused regions as kernels; the CPU backend runs each op.
  EXPECT_FALSE(lookupTarget("cpu")->runsFusedRegions());
  EXPECT_TRUE(lookupTarget("cuda")->runsFusedRegions());
  EXPECT_EQ(lookupTarget("cpu")->trainingUnsupportedReason(), "");
  EXPECT_NE(lookupTarget("cuda")->trainingUnsupportedReason(), "");
}
