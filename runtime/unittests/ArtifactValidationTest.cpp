//===- ArtifactValidationTest.cpp - artifacts that lie, with a valid checksum ---===//
//
// The manifest checksum catches damage, not a manifest that was written wrong (or on
// purpose): every offset, size, index and shape in it is checked before the runtime trusts
// it. Each test here writes a small valid artifact, changes one field of its manifest,
// writes it again with a correct checksum and expects Artifact::open to refuse it with the
// message naming what is wrong, including sizes and offsets chosen to wrap 64-bit sums.
//
//===----------------------------------------------------------------------===//

#include "ArtifactFile.h"

#include "parc/Runtime/Artifact.h"

#include "parc/artifact/artifact.pb.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <unistd.h>

using namespace parc::rt;
namespace pa = parc::artifact;

namespace {

void setType(pa::TensorType *type, std::initializer_list<int64_t> shape) {
  test::setTensorType(type, pa::F32, shape);
}

/// y = x + w for x, w, y of f32[4]: one input, one weight in the data region, one value in
/// the arena.
pa::Manifest validManifest() {
  pa::Manifest manifest;
  manifest.set_format_version(kArtifactFormatVersion);
  manifest.set_target("cpu");
  manifest.mutable_mesh()->set_dp(1);
  manifest.mutable_mesh()->set_pp(1);
  manifest.mutable_mesh()->set_tp(1);
  manifest.set_world_size(1);
  pa::GraphValue *x = manifest.add_inputs();
  x->set_name("x");
  setType(x->mutable_type(), {4});
  pa::GraphValue *y = manifest.add_outputs();
  y->set_name("y");
  setType(y->mutable_type(), {4});
  pa::WeightShard *w = manifest.add_weights();
  w->set_name("w");
  setType(w->mutable_type(), {4});
  w->set_offset(0);
  w->set_size(16);
  manifest.set_data_size(64);
  pa::Program *program = manifest.add_programs();
  program->set_rank(0);
  program->set_arena_bytes(16);
  setType(program->add_values()->mutable_type(), {4});
  program->mutable_values(0)->set_input(0);
  setType(program->add_values()->mutable_type(), {4});
  program->mutable_values(1)->set_weight(0);
  setType(program->add_values()->mutable_type(), {4});
  program->mutable_values(2)->set_arena_offset(0);
  pa::Instruction *add = program->add_instructions();
  add->set_op("add");
  add->add_operands(0);
  add->add_operands(1);
  add->add_results(2);
  program->add_outputs(2);
  return manifest;
}

/// Writes `manifest` as an artifact with a correct header and checksum and a data region of
/// `dataBytes` (by default the manifest's data_size) and opens it: the error, or "".
std::string openError(const pa::Manifest &manifest, int64_t dataBytes = -1) {
  std::string path = testing::TempDir() + "parc-artifact-" + std::to_string(getpid()) + ".parc";
  test::writeArtifactFile(manifest, path, dataBytes);
  Status status;
  std::unique_ptr<Artifact> artifact = Artifact::open(path, status);
  std::remove(path.c_str());
  return artifact ? "" : status.message();
}

/// The error of the valid artifact with `change` applied to its manifest.
std::string errorAfter(const std::function<void(pa::Manifest &)> &change) {
  pa::Manifest manifest = validManifest();
  change(manifest);
  return openError(manifest);
}

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(ArtifactValidationTest, TheValidArtifactOpens) { EXPECT_EQ(openError(validManifest()), ""); }

TEST(ArtifactValidationTest, WeightsOutsideTheDataRegion) {
  const char *outside = "corrupt artifact (weight 'w' lies outside the data region)";
  EXPECT_NE(errorAfter([](pa::Manifest &m) { m.mutable_weights(0)->set_offset(64); })
                .find(outside), std::string::npos);
  // offset + size wraps around 2^64 to 64, inside the data region.
  EXPECT_NE(errorAfter([](pa::Manifest &m) {
              m.mutable_weights(0)->mutable_type()->set_shape(0, 32);
              m.mutable_weights(0)->set_size(128);
              m.mutable_weights(0)->set_offset(kMax - 63);
            }).find(outside), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) { m.mutable_weights(0)->set_offset(8); })
                .find(outside), std::string::npos); // not 64-byte aligned
}

TEST(ArtifactValidationTest, WeightSizesAndShapes) {
  EXPECT_NE(errorAfter([](pa::Manifest &m) { m.mutable_weights(0)->set_size(12); })
                .find("weight 'w' has 12 bytes, its type needs 16"), std::string::npos);
  // 2^62 x 4 f32 elements: 2^66 bytes, which wraps to 0 in 64 bits.
  EXPECT_NE(errorAfter([](pa::Manifest &m) {
              m.mutable_weights(0)->mutable_type()->set_shape(0, int64_t(1) << 62);
              m.mutable_weights(0)->mutable_type()->add_shape(4);
              m.mutable_weights(0)->set_size(0);
            }).find("weight 'w' has an impossible shape"), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) {
              m.mutable_weights(0)->mutable_type()->set_shape(0, -4);
            }).find("weight 'w' has an impossible shape"), std::string::npos);
}

TEST(ArtifactValidationTest, ValuesOutsideTheArena) {
  const char *outside = "corrupt artifact (a value lies outside the arena)";
  EXPECT_NE(errorAfter([](pa::Manifest &m) {
              m.mutable_programs(0)->mutable_values(2)->set_arena_offset(8);
            }).find(outside), std::string::npos);
  // arena offset + 16 bytes wraps around 2^64 to 8.
  EXPECT_NE(errorAfter([](pa::Manifest &m) {
              m.mutable_programs(0)->mutable_values(2)->set_arena_offset(kMax - 7);
            }).find(outside), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) {
              m.mutable_programs(0)->mutable_values(2)->mutable_type()->set_shape(0, int64_t(1) << 62);
            }).find("a value has an impossible shape"), std::string::npos);
}

TEST(ArtifactValidationTest, IndicesThatPointNowhere) {
  EXPECT_NE(errorAfter([](pa::Manifest &m) { m.mutable_programs(0)->mutable_values(1)->set_weight(3); })
                .find("a value refers to a missing or smaller weight"), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) { m.mutable_programs(0)->mutable_values(0)->set_input(2); })
                .find("a value refers to a missing input"), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) {
              m.mutable_programs(0)->mutable_instructions(0)->set_operands(1, 7);
            }).find("instruction 'add' uses a missing value"), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) {
              m.mutable_programs(0)->mutable_instructions(0)->set_results(0, 0);
            }).find("instruction 'add' writes outside the arena"), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) { m.mutable_programs(0)->set_outputs(0, 9); })
                .find("an output refers to a missing value"), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) { m.mutable_programs(0)->set_rank(1); })
                .find("program 0 is for rank 1"), std::string::npos);
  EXPECT_NE(errorAfter([](pa::Manifest &m) { m.set_world_size(2); })
                .find("world size 2 but 1 programs"), std::string::npos);
}

TEST(ArtifactValidationTest, DataRegionsThatDoNotFitTheFile) {
  pa::Manifest manifest = validManifest();
  // A data size chosen so that data offset + data size wraps to the file's size.
  manifest.set_data_size(kMax - 1000);
  EXPECT_NE(openError(manifest, 64).find("truncated or corrupt artifact (a data region of"),
            std::string::npos);
  manifest = validManifest();
  EXPECT_NE(openError(manifest, 32).find("truncated artifact: expected"), std::string::npos);
}

} // namespace
