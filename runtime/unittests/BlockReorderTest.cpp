//===- BlockReorderTest.cpp - NCCL's rank-major blocks vs parc's axes -----===//
//
// An all-gather along an inner axis is NCCL's rank-major result reordered: it must equal
// the CPU backend's concatenation of the ranks' tensors along that axis. The
// reduce-scatter's input reordered rank-major must hold, at rank r's place, the CPU
// backend's slice r of the axis. Exact (copies). The device is the emulator's (host
// memory), whose strided copy is the one the GPU's cuMemcpy2D replaces.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "TestUtils.h"
#include "cuda/BlockReorder.h"

#include <gtest/gtest.h>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

std::unique_ptr<GpuDevice> hostDevice() {
  Status status;
  std::unique_ptr<GpuDevice> device = openEmulatedDevice("/tmp", status);
  EXPECT_TRUE(status) << status.message();
  return device;
}

TEST(BlockReorderTest, RankMajorGatherBecomesConcatenationAlongTheAxis) {
  // Three ranks each hold [2, 4, 3]; parc gathers along axis 1: [2, 12, 3].
  const int ranks = 3;
  std::vector<Tensor> parts;
  Tensor rankMajor(DType::F32, {ranks, 2, 4, 3}); // what NCCL writes: rank after rank
  for (int r = 0; r < ranks; ++r) {
    parts.push_back(randomF32({2, 4, 3}, 40 + r));
    std::memcpy(rankMajor.data<float>() + r * 24, parts.back().data<float>(), 24 * 4);
  }
  std::vector<TensorRef> refs;
  for (const Tensor &part : parts)
    refs.push_back(part.ref());
  Tensor expected(DType::F32, {2, 12, 3}), actual(DType::F32, {2, 12, 3});
  cpu::concat(refs, 1, expected.ref());
  std::unique_ptr<GpuDevice> device = hostDevice();
  // outer = 2 (dims before the axis), block = 4 x 3 floats.
  Status status = rankMajorToAxis(*device, actual.data<float>(), rankMajor.data<float>(), 2,
                                  4 * 3 * sizeof(float), ranks);
  ASSERT_TRUE(status) << status.message();
  EXPECT_EQ(actual.values<float>(), expected.values<float>());
}

TEST(BlockReorderTest, AxisBecomesRankMajorForReduceScatter) {
  // [2, 8, 3] scattered along axis 1 over 2 ranks: rank r gets [:, 4r:4r+4, :].
  const int ranks = 2;
  Tensor whole = randomF32({2, 8, 3}, 50);
  Tensor rankMajor(DType::F32, {ranks, 2, 4, 3});
  std::unique_ptr<GpuDevice> device = hostDevice();
  Status status = axisToRankMajor(*device, rankMajor.data<float>(), whole.data<float>(), 2,
                                  4 * 3 * sizeof(float), ranks);
  ASSERT_TRUE(status) << status.message();
  for (int r = 0; r < ranks; ++r) {
    Tensor part(DType::F32, {2, 4, 3});
    cpu::slice(whole.ref(), {0, 4 * r, 0}, {1, 1, 1}, part.ref());
    std::vector<float> got(rankMajor.data<float>() + r * 24, rankMajor.data<float>() + (r + 1) * 24);
    EXPECT_EQ(got, part.values<float>()) << "rank " << r;
  }
}

} // namespace
