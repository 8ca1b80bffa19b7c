//===- NcclCollectivesTest.cpp - the NCCL path with a fake NCCL -----------===//
//
// NcclCollectives run the CUDA backend's collectives when every rank has a GPU. Here two
// processes each drive it through the fake driver (FakeCuda.h) and a fake NCCL whose
// collectives run over the rank's Gloo communicator on the (host) buffers, as nccl.h
// documents them: all-reduce of `count` elements, all-gather of `sendcount` per rank into
// rank-major blocks, reduce-scatter of `recvcount` per rank. Checked: member 0's unique id
// reaches the other member, each communicator has the group's size and rank, and
// all_reduce, all_gather and reduce_scatter along an inner axis (through the rank-major
// reorders) give the values computed here. Values are small integers: sums are exact.
//
//===----------------------------------------------------------------------===//

#include "FakeCuda.h"
#include "MultiProcess.h"
#include "cuda/CudaBackend.h"

#include <cstring>
#include <set>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

/// The fake NCCL's state in each rank's process.
Communicator *gloo = nullptr;
std::string initProblem;
const char kId[] = "the id member 0 made";

cuda::Nccl fakeNccl() {
  cuda::Nccl nccl{};
  nccl.getUniqueId = [](cuda::NcclUniqueId *id) {
    std::memset(id, 0, sizeof(*id));
    std::memcpy(id->internal, kId, sizeof(kId));
    return 0;
  };
  nccl.commInitRank = [](cuda::NcclComm *comm, int ranks, cuda::NcclUniqueId id, int rank) {
    if (std::strcmp(id.internal, kId) != 0)
      initProblem += "rank " + std::to_string(rank) + " got another id; ";
    if (ranks != gloo->size() || rank != gloo->rank())
      initProblem += "ncclCommInitRank(" + std::to_string(ranks) + ", " + std::to_string(rank) +
                     ") does not match the group; ";
    *comm = reinterpret_cast<cuda::NcclComm>(gloo);
    return 0;
  };
  nccl.commDestroy = [](cuda::NcclComm) { return 0; };
  nccl.allReduce = [](const void *send, void *recv, size_t count, int type, int op,
                      cuda::NcclComm comm, cuda::Stream) {
    if (type != cuda::kNcclFloat32 || op != cuda::kNcclSum)
      return 1;
    std::memmove(recv, send, count * sizeof(float));
    auto *group = reinterpret_cast<Communicator *>(comm);
    return group->allReduceSum(TensorRef{recv, DType::F32, {int64_t(count)}}) ? 0 : 1;
  };
  nccl.allGather = [](const void *send, void *recv, size_t count, int type, cuda::NcclComm comm,
                      cuda::Stream) {
    auto *group = reinterpret_cast<Communicator *>(comm);
    TensorRef in{const_cast<void *>(send), DType::F32, {int64_t(count)}};
    TensorRef out{recv, DType::F32, {int64_t(count) * group->size()}};
    return type == cuda::kNcclFloat32 && group->allGather(in, 0, out) ? 0 : 1;
  };
  nccl.reduceScatter = [](const void *send, void *recv, size_t count, int type, int op,
                          cuda::NcclComm comm, cuda::Stream) {
    auto *group = reinterpret_cast<Communicator *>(comm);
    TensorRef in{const_cast<void *>(send), DType::F32, {int64_t(count) * group->size()}};
    TensorRef out{recv, DType::F32, {int64_t(count)}};
    return type == cuda::kNcclFloat32 && op == cuda::kNcclSum &&
                   group->reduceScatterSum(in, 0, out)
               ? 0
               : 1;
  };
  nccl.getErrorString = [](cuda::NcclResult) { return "fake NCCL error"; };
  return nccl;
}

/// Runs one collective through NcclCollectives on device buffers of the fake driver.
std::string runCollective(GpuDevice &device, DeviceCollectives &collectives,
                          const std::string &op, int64_t axis, const std::vector<float> &input,
                          const Shape &inShape, const Shape &outShape, std::vector<float> &result) {
  TensorRef in{device.allocate(input.size() * 4), DType::F32, inShape};
  TensorRef out{device.allocate(numElements(outShape) * 4), DType::F32, outShape};
  if (!device.copyToDevice(in.data, input.data(), input.size() * 4))
    return "copy";
  BoundKernel kernel;
  Status bound = collectives.bind(op, "tp", axis, in, out, kernel);
  if (!bound)
    return op + ": " + bound.message();
  Status ran = kernel();
  if (!ran)
    return op + ": " + ran.message();
  result.assign(numElements(outShape), 0);
  if (!device.copyToHost(result.data(), out.data, result.size() * 4))
    return "copy back";
  device.deallocate(in.data);
  device.deallocate(out.data);
  return "";
}

TEST(NcclCollectivesTest, CollectivesAlongInnerAxesOverAFakeNccl) {
  EXPECT_TRUE(runRanks(2, [](int rank, const std::string &dir) -> std::string {
    RANK_CONNECT(context, rank, 2, dir + "/rendezvous", 20);
    Status status;
    Communicator *tp = context->group({0, 1}, status);
    if (!tp)
      return status.message();
    gloo = tp;
    cuda::Driver driver = fakeDriver();
    cuda::BlasLt blas = fakeBlas();
    cuda::Nccl nccl = fakeNccl();
    std::unique_ptr<GpuDevice> device = openDriverDevice(rank, status, &driver, &blas);
    if (!device)
      return status.message();
    CommunicatorGroups groups{{"tp", tp}};
    std::unique_ptr<DeviceCollectives> collectives =
        createNcclCollectives(*device, groups, {"tp"}, status, &nccl);
    if (!collectives)
      return status.message();

    // Rank r holds x[i] = 10 r + i in a [2, 3] tensor.
    std::vector<float> x(6);
    for (int i = 0; i < 6; ++i)
      x[i] = 10.0f * rank + i;
    std::vector<float> result;
    RANK_CHECK(runCollective(*device, *collectives, "all_reduce", 0, x, {2, 3}, {2, 3}, result));
    for (int i = 0; i < 6; ++i)
      if (result[i] != 10.0f + 2 * i)
        return "all_reduce: element " + std::to_string(i) + " is " + std::to_string(result[i]);
    // Gathered along axis 1: [2, 6], row o = rank 0's row o then rank 1's row o.
    RANK_CHECK(runCollective(*device, *collectives, "all_gather", 1, x, {2, 3}, {2, 6}, result));
    for (int o = 0; o < 2; ++o)
      for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 3; ++c)
          if (result[o * 6 + r * 3 + c] != 10.0f * r + o * 3 + c)
            return "all_gather along axis 1: wrong element at row " + std::to_string(o);
    // A [2, 4] tensor summed over the ranks and scattered along axis 1: rank r keeps
    // columns 2r and 2r + 1 of every row.
    std::vector<float> y(8);
    for (int i = 0; i < 8; ++i)
      y[i] = 100.0f * rank + i;
    RANK_CHECK(runCollective(*device, *collectives, "reduce_scatter", 1, y, {2, 4}, {2, 2}, result));
    for (int o = 0; o < 2; ++o)
      for (int c = 0; c < 2; ++c) {
        float expected = 100.0f + 2 * (o * 4 + 2 * rank + c);
        if (result[o * 2 + c] != expected)
          return "reduce_scatter along axis 1: element (" + std::to_string(o) + ", " +
                 std::to_string(c) + ") is " + std::to_string(result[o * 2 + c]) + ", expected " +
                 std::to_string(expected);
      }
    return initProblem;
  }));
}

// Issue 21 (H): three ranks, "dp" of all three and "tp" of ranks 0 and 1. Rank 0's
// program uses tp first, rank 1's dp first. Communicators made when a group's first
// collective was bound deadlocked here (rank 0 waits in tp's id exchange for rank 1, which
// waits in dp's for rank 0); made up front in name order, dp then tp on every rank, they
// do not, and binding then makes none.
TEST(NcclCollectivesTest, CommunicatorsAreMadeUpFrontInOneOrder) {
  EXPECT_TRUE(runRanks(3, [](int rank, const std::string &dir) -> std::string {
    RANK_CONNECT(context, rank, 3, dir + "/rendezvous", 10);
    Status status;
    Communicator *dp = context->world(status);
    Communicator *tp = rank < 2 ? context->group({0, 1}, status) : nullptr;
    if (!dp || (rank < 2 && !tp))
      return status.message();
    cuda::Driver driver = fakeDriver();
    cuda::BlasLt blas = fakeBlas();
    cuda::Nccl nccl = fakeNccl();
    static int initialized = 0;
    nccl.commInitRank = [](cuda::NcclComm *comm, int, cuda::NcclUniqueId, int) {
      *comm = reinterpret_cast<cuda::NcclComm>(static_cast<size_t>(++initialized));
      return 0;
    };
    std::unique_ptr<GpuDevice> device = openDriverDevice(0, status, &driver, &blas);
    if (!device)
      return status.message();
    CommunicatorGroups groups{{"dp", dp}};
    std::set<std::string> used{"dp"};
    if (tp) {
      groups["tp"] = tp;
      used.insert("tp");
    }
    std::unique_ptr<DeviceCollectives> collectives =
        createNcclCollectives(*device, groups, used, status, &nccl);
    if (!collectives)
      return status.message();
    int made = initialized;
    if (made != static_cast<int>(used.size()))
      return std::to_string(made) + " communicators made up front, expected " +
             std::to_string(used.size());
    std::vector<std::string> order = rank == 0 ? std::vector<std::string>{"tp", "dp"}
                                               : std::vector<std::string>{"dp", "tp"};
    float buffer[4] = {0, 0, 0, 0};
    for (const std::string &group : order) {
      if (!groups.count(group))
        continue;
      BoundKernel kernel;
      TensorRef tensor{device->allocate(sizeof(buffer)), DType::F32, {4}};
      Status bound = collectives->bind("all_reduce", group, 0, tensor, tensor, kernel);
      if (!bound)
        return group + ": " + bound.message();
    }
    if (initialized != made)
      return "binding made communicators again";
    return "";
  }));
}

} // namespace
