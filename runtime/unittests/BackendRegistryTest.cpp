//===- BackendRegistryTest.cpp - backends found by target -----------------===//

#include "BackendRegistry.h"

#include <gtest/gtest.h>

using namespace parc::rt;

TEST(BackendRegistry, FindsEachBackendByTheArtifactsTarget) {
  ASSERT_NE(findBackendProvider("cpu"), nullptr);
  ASSERT_NE(findBackendProvider("cuda"), nullptr);
  EXPECT_STREQ(findBackendProvider("cpu")->target, "cpu");
  EXPECT_STREQ(findBackendProvider("cuda")->target, "cuda");
  // Artifacts written before targets were recorded run on the CPU.
  EXPECT_EQ(findBackendProvider(""), findBackendProvider("cpu"));
  EXPECT_EQ(findBackendProvider("tpu"), nullptr);
}
