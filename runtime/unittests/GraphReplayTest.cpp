//===- GraphReplayTest.cpp - CUDA graph replays read the inputs of their run ---===//
//
// With --cuda-graphs the first run warms up, the second is captured and every later run
// replays the graph. A replay must read the input that was copied in before it, not the
// one present when the graph was captured. A hand-made CUDA artifact (z = 2 x + 1, two
// kernels) runs on the CUDA backend over its emulator five times, each with a new input,
// and every run's output must be that input's.
//
//===----------------------------------------------------------------------===//

#include "ArtifactFile.h"
#include "cuda/CudaBackend.h"
#include "cuda/GpuDevice.h"

#include "parc/Runtime/Artifact.h"
#include "parc/Runtime/Communicator.h"
#include "parc/Runtime/Executor.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

using namespace parc::rt;
namespace pa = parc::artifact;

namespace {

/// y = scale x and z = y + 1, over four f32 elements each.
pa::Manifest twoKernelManifest() {
  pa::Manifest manifest;
  manifest.set_format_version(kArtifactFormatVersion);
  manifest.set_target("cuda");
  manifest.mutable_mesh()->set_dp(1);
  manifest.mutable_mesh()->set_pp(1);
  manifest.mutable_mesh()->set_tp(1);
  manifest.set_world_size(1);
  pa::GraphValue *x = manifest.add_inputs();
  x->set_name("x");
  test::setTensorType(x->mutable_type(), pa::F32, {4});
  pa::GraphValue *z = manifest.add_outputs();
  z->set_name("z");
  test::setTensorType(z->mutable_type(), pa::F32, {4});
  const char *sources[] = {
      "extern \"C\" __global__ void scale(const float *in0, float *out0) {\n"
      "  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;\n"
      "  if (i < 4) out0[i] = 2.0f * in0[i];\n}\n",
      "extern \"C\" __global__ void increment(const float *in0, float *out0) {\n"
      "  unsigned i = blockIdx.x * blockDim.x + threadIdx.x;\n"
      "  if (i < 4) out0[i] = in0[i] + 1.0f;\n}\n"};
  const char *names[] = {"scale", "increment"};
  for (int k = 0; k < 2; ++k) {
    pa::CudaKernel *kernel = manifest.add_cuda_kernels();
    kernel->set_name(names[k]);
    kernel->set_source(sources[k]);
    kernel->set_elements(4);
    kernel->set_block_size(32);
  }
  pa::Program *program = manifest.add_programs();
  program->set_rank(0);
  program->set_arena_bytes(32);
  pa::Value *input = program->add_values();
  test::setTensorType(input->mutable_type(), pa::F32, {4});
  input->set_input(0);
  for (uint64_t offset : {0, 16}) {
    pa::Value *value = program->add_values();
    test::setTensorType(value->mutable_type(), pa::F32, {4});
    value->set_arena_offset(offset);
  }
  for (int k = 0; k < 2; ++k) {
    pa::Instruction *launch = program->add_instructions();
    launch->set_op("fused");
    launch->add_operands(k);
    launch->add_results(k + 1);
    launch->mutable_kernel()->set_kernel(k);
    launch->mutable_kernel()->set_kind("elementwise");
  }
  program->add_outputs(2);
  return manifest;
}

TEST(GraphReplayTest, ReplaysReadEachRunsInput) {
  std::string folder = testing::TempDir() + "parc-graphs-" + std::to_string(getpid());
  ASSERT_EQ(system(("mkdir -p " + folder).c_str()), 0);
  std::string path = folder + "/model.parc";
  test::writeArtifactFile(twoKernelManifest(), path);
  Status status;
  std::unique_ptr<Artifact> artifact = Artifact::open(path, status);
  ASSERT_TRUE(artifact) << status.message();
  std::unique_ptr<GpuDevice> device = openEmulatedDevice(folder, status);
  ASSERT_TRUE(device) << status.message();
  std::unique_ptr<Backend> backend =
      createCudaBackend(artifact->manifest(), std::move(device), nullptr, status);
  ASSERT_TRUE(backend) << status.message();
  CommunicatorGroups groups;
  std::unique_ptr<Executor> executor = Executor::create(*artifact, 0, *backend, groups, status);
  ASSERT_TRUE(executor) << status.message();
  ASSERT_TRUE(executor->enableGraphs());
  for (int run = 0; run < 5; ++run) {
    float x[4] = {float(run), float(10 * run), -1.5f * run, 0.25f + run};
    ASSERT_TRUE(executor->setInput(0, x));
    Status ran = executor->run(false);
    ASSERT_TRUE(ran) << ran.message();
    std::vector<char> storage;
    TensorRef z;
    ASSERT_TRUE(executor->outputOnHost(0, storage, z));
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(z.as<float>()[i], 2.0f * x[i] + 1.0f) << "run " << run << ", element " << i;
  }
  // Run 1 was captured; runs 1 to 4 replayed the graph.
  EXPECT_EQ(executor->graphReplays(), 4);
  ASSERT_EQ(system(("rm -rf " + folder).c_str()), 0);
}

} // namespace
