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
#include "parc/Runtime/ArtifactFormat.h"
#include "parc/Runtime/Backend.h"
#include "parc/Runtime/Executor.h"
#include "parc/Runtime/ProcessMemory.h"

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

// Sizes a manifest declares are refused before anything is allocated when they exceed
// the machine's memory, naming what needs it (a 2^40-element tensor, a 2^50-byte arena).
constexpr uint64_t kTwoTo40 = uint64_t(1) << 40;

/// Opens `manifest` and binds rank 0 on the CPU backend: the error of either, or "".
std::string bindError(const pa::Manifest &manifest) {
  std::string path = testing::TempDir() + "parc-bind-" + std::to_string(getpid()) + ".parc";
  test::writeArtifactFile(manifest, path);
  Status status;
  std::unique_ptr<Artifact> artifact = Artifact::open(path, status);
  std::remove(path.c_str());
  if (!artifact)
    return status.message();
  std::unique_ptr<Backend> backend = createCpuBackend(1);
  std::unique_ptr<Executor> executor =
      Executor::create(*artifact, 0, *backend, CommunicatorGroups(), status);
  return executor ? "" : status.message();
}

TEST(ArtifactLimitsTest, TheValidArtifactBinds) { EXPECT_EQ(bindError(validManifest()), ""); }

TEST(ArtifactLimitsTest, AnArenaLargerThanMemory) {
  pa::Manifest manifest = validManifest();
  manifest.mutable_programs(0)->set_arena_bytes(kTwoTo40 * 4);
  std::string error = bindError(manifest);
  EXPECT_NE(error.find("the activation arena needs 4398046511104 bytes (4398.0 GB), "
                       "more than this machine's memory ("),
            std::string::npos)
      << error;
}

TEST(ArtifactLimitsTest, AnInputOf2To40Elements) {
  pa::Manifest manifest = validManifest();
  manifest.mutable_inputs(0)->mutable_type()->set_shape(0, kTwoTo40);
  manifest.mutable_programs(0)->mutable_values(0)->mutable_type()->set_shape(0, kTwoTo40);
  std::string error = bindError(manifest);
  EXPECT_NE(error.find("input 'x' of shape 1099511627776 needs 4398046511104 bytes"),
            std::string::npos)
      << error;
}

TEST(ArtifactLimitsTest, AnInputWhoseSizeOverflows) {
  std::string error = errorAfter([](pa::Manifest &manifest) {
    manifest.mutable_inputs(0)->mutable_type()->set_shape(0, kTwoTo40);
    manifest.mutable_inputs(0)->mutable_type()->add_shape(kTwoTo40);
  });
  EXPECT_NE(error.find(": corrupt artifact (input 'x' has an impossible shape)"),
            std::string::npos)
      << error;
}

TEST(ArtifactLimitsTest, AMadeUpWeightLargerThanMemory) {
  std::string error = errorAfter([](pa::Manifest &manifest) {
    pa::WeightShard *w = manifest.mutable_weights(0);
    w->set_random(true);
    w->mutable_type()->set_shape(0, kTwoTo40);
    w->set_size(kTwoTo40 * 4);
    manifest.mutable_programs(0)->mutable_values(1)->mutable_type()->set_shape(0, kTwoTo40);
  });
  EXPECT_NE(error.find("weight 'w' (stored without bytes, made up when loaded) brings the "
                       "made-up weights to 4398046511104 bytes (4398.0 GB), more than this "
                       "machine's memory ("),
            std::string::npos)
      << error;
}

TEST(ArtifactLimitsTest, PhysicalMemoryIsKnown) {
  // The limits above assume it: a machine that reports none would skip them.
  EXPECT_GT(physicalMemoryBytes(), uint64_t(1) << 28);
  EXPECT_LT(physicalMemoryBytes(), kTwoTo40);
}

// A flipped byte in a shard of any dtype, anywhere in it, fails verifyWeights naming it.
TEST(WeightChecksumTest, AFlippedByteOfEveryDtypeAndPosition) {
  struct Kind {
    pa::DType dtype;
    int64_t elementBytes;
  };
  const Kind kinds[] = {{pa::F32, 4}, {pa::F16, 2}, {pa::BF16, 2},
                        {pa::I64, 8}, {pa::I32, 4}, {pa::BOOL, 1}};
  for (const Kind &kind : kinds) {
    const int64_t elements = 37; // not a multiple of the CRC's 8-byte steps
    const uint64_t bytes = elements * kind.elementBytes;
    pa::Manifest manifest = validManifest();
    pa::WeightShard *w = manifest.mutable_weights(0);
    w->mutable_type()->Clear();
    test::setTensorType(w->mutable_type(), kind.dtype, {elements});
    w->set_size(bytes);
    std::string data(alignArtifactOffset(bytes), '\0');
    for (uint64_t i = 0; i < bytes; ++i)
      data[i] = static_cast<char>(kind.dtype == pa::BOOL ? i % 2 : (i * 131 + 7) % 251);
    w->set_crc32c(crc32c(data.data(), bytes));
    manifest.set_data_size(data.size());
    // The program reads the weight but need not run: only verifyWeights is called.
    pa::TensorType *read = manifest.mutable_programs(0)->mutable_values(1)->mutable_type();
    read->Clear();
    test::setTensorType(read, kind.dtype, {elements});
    for (int64_t position : {int64_t(-1), int64_t(0), int64_t(1), int64_t(bytes / 2),
                             int64_t(bytes - 1)}) {
      std::string corrupt = data;
      if (position >= 0)
        corrupt[position] = static_cast<char>(corrupt[position] ^ 0x01);
      std::string path =
          testing::TempDir() + "parc-crc-" + std::to_string(getpid()) + ".parc";
      test::writeArtifactFile(manifest, path, -1, corrupt);
      Status status;
      std::unique_ptr<Artifact> artifact = Artifact::open(path, status);
      ASSERT_TRUE(artifact) << status.message();
      Status verified = artifact->verifyWeights(0);
      std::remove(path.c_str());
      SCOPED_TRACE("dtype " + std::to_string(kind.dtype) + ", byte " +
                   std::to_string(position));
      if (position < 0) {
        EXPECT_TRUE(verified.isOk()) << verified.message();
        continue;
      }
      ASSERT_FALSE(verified.isOk());
      EXPECT_NE(verified.message().find(": corrupt artifact: weight 'w' does not match its "
                                        "checksum"),
                std::string::npos)
          << verified.message();
    }
  }
}

} // namespace
