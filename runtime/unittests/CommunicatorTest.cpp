//===- CommunicatorTest.cpp - multi-process tests of the Gloo communicator ===//
//
// Tests of CommContext and Communicator (lib/comm) with real processes: each
// test forks one child per rank before anything starts a thread; the children
// connect over 127.0.0.1 through a fresh rendezvous folder, run the operations,
// check the results against values computed here independently of the library
// (coordinate arithmetic, exact sums), and exit with 0 or 1. The parent fails
// the test on any non-zero exit, crash, or missed deadline, killing the
// children it started.
//
// Test data are chosen so that every f32 sum is exact: f32 and integer results
// must match exactly, and f16/bf16 results must equal the exact sum rounded
// once to nearest even.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Communicator.h"

#include "MultiProcess.h"
#include "TestUtils.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

/// The world group of `context`, or returns from the rank body with the error.
#define RANK_WORLD(comm, context)                                              \
  Status comm##Status;                                                         \
  Communicator *comm = context->world(comm##Status);                           \
  if (!comm)                                                                   \
    return "world: " + comm##Status.message();

/// Element `index` that member `rank` contributes, exactly representable in
/// `dtype`, and such that sums over up to 4 members are exact in f32 (at most
/// 14 significant bits).
double valueOf(int rank, int64_t index, DType dtype) {
  int64_t mix = index * 37 + rank * 101;
  switch (dtype) {
  case DType::F32:
    return static_cast<double>(mix % 4093 - 2046) / 256.0;
  case DType::F16:
    return static_cast<double>(mix % 2047 - 1023) / 256.0;
  case DType::BF16: // members differ in scale, so sums need more than 8 bits
    return std::ldexp(static_cast<double>(mix % 255 - 127), 2 * (rank % 3) - 6);
  case DType::I64:
    return static_cast<double>((int64_t(rank) << 40) + index * 7 - 3);
  case DType::I32:
    return static_cast<double>(index * 13 + rank * 1000 - 500);
  case DType::Bool:
    return (index + rank) % 3 == 0 ? 1.0 : 0.0;
  }
  return 0;
}

/// `sum` as `dtype` stores it: f16 and bf16 round to nearest even once.
double stored(double sum, DType dtype) {
  if (dtype == DType::F16)
    return halfToFloat(floatToHalf(static_cast<float>(sum)));
  if (dtype == DType::BF16)
    return bf16ToFloat(floatToBf16(static_cast<float>(sum)));
  return sum;
}

/// The tensor of `shape` that member `rank` contributes.
Tensor contribution(int rank, DType dtype, const Shape &shape) {
  std::vector<double> values(numElements(shape));
  for (int64_t i = 0; i < static_cast<int64_t>(values.size()); ++i)
    values[i] = valueOf(rank, i, dtype);
  return make(dtype, shape, values);
}

/// Row-major index of `coords` in `shape`.
int64_t flatIndex(const Shape &shape, const std::vector<int64_t> &coords) {
  int64_t index = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    index = index * shape[d] + coords[d];
  return index;
}

/// "" when `got` holds exactly `expected`, else the first difference.
std::string compare(const Tensor &got, const std::vector<double> &expected,
                    const std::string &what) {
  std::vector<double> values = got.asDoubles();
  if (values.size() != expected.size())
    return what + ": " + std::to_string(values.size()) +
           " elements, expected " + std::to_string(expected.size());
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] != expected[i])
      return what + " (" + dtypeName(got.dtype) + "): element " +
             std::to_string(i) + " is " + std::to_string(values[i]) +
             ", expected " + std::to_string(expected[i]);
  return "";
}

/// The expected all-reduce sum over `members` (world ranks) of element i.
std::vector<double> expectedSum(const std::vector<int> &members, DType dtype,
                                int64_t count) {
  std::vector<double> result(count);
  for (int64_t i = 0; i < count; ++i) {
    double sum = 0;
    for (int member : members)
      sum += valueOf(member, i, dtype);
    result[i] = stored(sum, dtype);
  }
  return result;
}

const std::vector<DType> kSummable = {DType::F32, DType::F16, DType::BF16,
                                      DType::I64, DType::I32};

/// All-reduces every summable dtype (a small odd shape and a larger one) in a
/// world of `world` ranks.
std::string allReduceEveryDType(int rank, int world, const std::string &dir) {
  RANK_CONNECT(context, rank, world, dir, 10.0);
  RANK_WORLD(comm, context);
  if (comm->rank() != rank || comm->size() != world)
    return "world group has rank " + std::to_string(comm->rank()) + " of " +
           std::to_string(comm->size());
  std::vector<int> members;
  for (int r = 0; r < world; ++r)
    members.push_back(r);
  for (DType dtype : kSummable) {
    for (const Shape &shape : {Shape{3, 5}, Shape{1, 40001}}) {
      Tensor tensor = contribution(rank, dtype, shape);
      RANK_CHECK_OK(comm->allReduceSum(tensor.ref()));
      RANK_CHECK(compare(tensor, expectedSum(members, dtype, tensor.size()),
                         "allReduceSum " + formatShape(shape)));
    }
  }
  // Integers wrap around: the maximum plus world - 1 ones.
  Tensor narrow = i32({1}, {rank == 0 ? INT32_MAX : 1});
  Tensor wide = i64({1}, {rank == 0 ? INT64_MAX : 1});
  RANK_CHECK_OK(comm->allReduceSum(narrow.ref()));
  RANK_CHECK_OK(comm->allReduceSum(wide.ref()));
  if (narrow.data<int32_t>()[0] != INT32_MIN + world - 2 ||
      wide.data<int64_t>()[0] != INT64_MIN + world - 2)
    return std::string("integer sums do not wrap around");
  return "";
}

/// The expected all-gather of the members' contributions of shape `part` along
/// `axis`.
std::vector<double> expectedGather(const std::vector<int> &members, DType dtype,
                                   const Shape &part, int64_t axis) {
  Shape whole = part;
  whole[axis] *= static_cast<int64_t>(members.size());
  std::vector<double> result(numElements(whole));
  for (int64_t i = 0; i < static_cast<int64_t>(result.size()); ++i) {
    std::vector<int64_t> coords = coordinatesOf(whole, i);
    int member = static_cast<int>(coords[axis] / part[axis]);
    coords[axis] %= part[axis];
    result[i] = valueOf(members[member], flatIndex(part, coords), dtype);
  }
  return result;
}

/// Gathers the members' contributions of shape `part` along `axis` and checks
/// the result.
std::string checkAllGather(Communicator *comm, int worldRank, DType dtype,
                           const Shape &part, int64_t axis) {
  Tensor in = contribution(worldRank, dtype, part);
  int64_t dim = axis < 0 ? axis + static_cast<int64_t>(part.size()) : axis;
  Shape whole = part;
  whole[dim] *= comm->size();
  Tensor out(dtype, whole);
  RANK_CHECK_OK(comm->allGather(in.ref(), axis, out.ref()));
  return compare(out, expectedGather(comm->worldRanks(), dtype, part, dim),
                 "allGather " + formatShape(part) + " axis " +
                     std::to_string(axis));
}

/// The expected part of member `member` of the reduce-scatter of the
/// contributions of shape `whole` along `axis`.
std::vector<double> expectedScatter(const std::vector<int> &members, int member,
                                    DType dtype, const Shape &whole,
                                    int64_t axis) {
  Shape part = whole;
  part[axis] /= static_cast<int64_t>(members.size());
  std::vector<double> result(numElements(part));
  for (int64_t i = 0; i < static_cast<int64_t>(result.size()); ++i) {
    std::vector<int64_t> coords = coordinatesOf(part, i);
    coords[axis] += member * part[axis];
    int64_t source = flatIndex(whole, coords);
    double sum = 0;
    for (int contributor : members)
      sum += valueOf(contributor, source, dtype);
    result[i] = stored(sum, dtype);
  }
  return result;
}

/// Reduce-scatters the members' contributions of shape `whole` along `axis` and
/// checks this member's part.
std::string checkReduceScatter(Communicator *comm, int worldRank, DType dtype,
                               const Shape &whole, int64_t axis) {
  Tensor in = contribution(worldRank, dtype, whole);
  Shape part = whole;
  part[axis] /= comm->size();
  Tensor out(dtype, part);
  RANK_CHECK_OK(comm->reduceScatterSum(in.ref(), axis, out.ref()));
  return compare(
      out,
      expectedScatter(comm->worldRanks(), comm->rank(), dtype, whole, axis),
      "reduceScatterSum " + formatShape(whole) + " axis " +
          std::to_string(axis));
}

/// A tensor of `count` f32 values starting at `first`.
Tensor iota(int64_t count, float first) {
  std::vector<float> values(count);
  for (int64_t i = 0; i < count; ++i)
    values[i] = first + static_cast<float>(i);
  return f32({count}, values);
}

/// "" when `tensor` holds `count` values starting at `first`.
std::string checkIota(const Tensor &tensor, float first,
                      const std::string &what) {
  std::vector<double> expected(tensor.size());
  for (int64_t i = 0; i < tensor.size(); ++i)
    expected[i] = first + static_cast<double>(i);
  return compare(tensor, expected, what);
}

/// Whether `text` contains `part`, or a message saying it does not.
std::string expectContains(const std::string &text, const std::string &part) {
  if (text.find(part) != std::string::npos)
    return "";
  return "message '" + text + "' lacks '" + part + "'";
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

TEST(CommunicatorTest, TestDataDistinguishesSingleRounding) {
  // Summing f16/bf16 step by step, rounding each partial sum, gives other
  // results than the single rounding the tests expect, so the tests would catch
  // a per-step reduction.
  for (DType dtype : {DType::F16, DType::BF16}) {
    int differing = 0;
    for (int64_t i = 0; i < 1000; ++i) {
      double once = 0, stepwise = 0;
      for (int r = 0; r < 4; ++r) {
        once += valueOf(r, i, dtype);
        stepwise = stored(stepwise + valueOf(r, i, dtype), dtype);
      }
      differing += stored(once, dtype) != stepwise;
    }
    EXPECT_GT(differing, 10) << dtypeName(dtype);
  }
}

TEST(CommunicatorTest, AllReduceSumEveryDTypeWorld2) {
  EXPECT_TRUE(runRanks(2, [](int rank, const std::string &dir) {
    return allReduceEveryDType(rank, 2, dir);
  }));
}

TEST(CommunicatorTest, AllReduceSumEveryDTypeWorld4) {
  EXPECT_TRUE(runRanks(4, [](int rank, const std::string &dir) {
    return allReduceEveryDType(rank, 4, dir);
  }));
}

TEST(CommunicatorTest, AllGatherAlongFirstAndMiddleAxes) {
  EXPECT_TRUE(runRanks(3, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 3, dir, 10.0);
    RANK_WORLD(comm, context);
    for (DType dtype :
         {DType::F32, DType::I64, DType::Bool, DType::BF16, DType::I32}) {
      RANK_CHECK(checkAllGather(comm, rank, dtype, {2, 3}, 0));
      RANK_CHECK(checkAllGather(comm, rank, dtype, {2, 3, 4}, 1));
      RANK_CHECK(checkAllGather(comm, rank, dtype, {2, 3, 4}, -1));
    }
    return std::string();
  }));
}

/// An all-gather along a non-leading axis whose output exceeds the gather scratch
/// (kGatherScratchBytes) goes in bands of rows, the last one short; twice, so the
/// second call reuses the scratch the first grew.
TEST(CommunicatorTest, AllGatherAlongLastAxisInBands) {
  EXPECT_TRUE(runRanks(3, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 3, dir, 30.0);
    RANK_WORLD(comm, context);
    // 3 members x 700 f32 = 8400 bytes per output row: 998 rows per 8 MiB band.
    RANK_CHECK(checkAllGather(comm, rank, DType::F32, {2500, 700}, 1));
    RANK_CHECK(checkAllGather(comm, rank, DType::F32, {2, 1250, 700}, 2));
    return std::string();
  }));
}

TEST(CommunicatorTest, ReduceScatterSumAlongAxes0And1World4) {
  EXPECT_TRUE(runRanks(4, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 4, dir, 10.0);
    RANK_WORLD(comm, context);
    for (DType dtype : kSummable) {
      RANK_CHECK(checkReduceScatter(comm, rank, dtype, {8, 3}, 0));
      RANK_CHECK(checkReduceScatter(comm, rank, dtype, {3, 8, 5}, 1));
      RANK_CHECK(checkReduceScatter(comm, rank, dtype, {4, 1000}, 1));
    }
    return std::string();
  }));
}

TEST(CommunicatorTest, ReduceScatterSumWorld3) {
  EXPECT_TRUE(runRanks(3, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 3, dir, 10.0);
    RANK_WORLD(comm, context);
    for (DType dtype : {DType::F32, DType::BF16, DType::I64}) {
      RANK_CHECK(checkReduceScatter(comm, rank, dtype, {6, 7}, 0));
      RANK_CHECK(checkReduceScatter(comm, rank, dtype, {2, 3, 4}, 1));
    }
    return std::string();
  }));
}

TEST(CommunicatorTest, SubgroupsStayWithinTheirMembers) {
  EXPECT_TRUE(runRanks(4, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 4, dir, 10.0);
    // Tensor-parallel pairs {0,1} {2,3} and pipeline pairs {0,2} {1,3} in one
    // run.
    std::vector<int> tp =
        rank < 2 ? std::vector<int>{0, 1} : std::vector<int>{2, 3};
    std::vector<int> pp =
        rank % 2 == 0 ? std::vector<int>{0, 2} : std::vector<int>{1, 3};
    Status status;
    Communicator *tpComm = context->group(tp, status);
    if (!tpComm)
      return "group: " + status.message();
    Communicator *ppComm = context->group(pp, status);
    if (!ppComm)
      return "group: " + status.message();
    if (context->group(tp, status) != tpComm)
      return std::string("a second request made a new group");
    if (tpComm->rank() != rank % 2 || ppComm->rank() != rank / 2 ||
        tpComm->size() != 2)
      return std::string("wrong group ranks");
    if (tpComm->name() !=
        "group {" + std::to_string(tp[0]) + "," + std::to_string(tp[1]) + "}")
      return "group name " + tpComm->name();

    for (DType dtype : {DType::F32, DType::I64}) {
      Tensor tensor = contribution(rank, dtype, {5, 7});
      RANK_CHECK_OK(tpComm->allReduceSum(tensor.ref()));
      RANK_CHECK(compare(tensor, expectedSum(tp, dtype, tensor.size()),
                         "tp allReduceSum"));
      tensor = contribution(rank, dtype, {5, 7});
      RANK_CHECK_OK(ppComm->allReduceSum(tensor.ref()));
      RANK_CHECK(compare(tensor, expectedSum(pp, dtype, tensor.size()),
                         "pp allReduceSum"));
    }
    RANK_CHECK(checkAllGather(ppComm, rank, DType::I32, {2, 3}, 1));
    RANK_CHECK(checkReduceScatter(tpComm, rank, DType::F32, {3, 4}, 1));
    // Point to point inside a subgroup uses group ranks: 0 -> 2 is member 0 ->
    // member 1.
    Tensor message = iota(6, 100.0f * rank);
    if (ppComm->rank() == 0) {
      RANK_CHECK_OK(ppComm->send(message.ref(), 1, 0));
      RANK_CHECK_OK(ppComm->flush());
    } else {
      RANK_CHECK_OK(ppComm->recv(message.ref(), 0, 0));
      RANK_CHECK(checkIota(message, 100.0f * pp[0], "pp recv"));
    }
    RANK_WORLD(world, context);
    Tensor all = contribution(rank, DType::I32, {9});
    RANK_CHECK_OK(world->allReduceSum(all.ref()));
    return compare(all, expectedSum({0, 1, 2, 3}, DType::I32, 9),
                   "world allReduceSum");
  }));
}

TEST(CommunicatorTest, SendRecvBlocking) {
  EXPECT_TRUE(runRanks(3, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 3, dir, 10.0);
    RANK_WORLD(comm, context);
    // Both neighbours send first, then receive: send must not wait for the
    // peer's recv.
    int other = rank == 0 ? 1 : 0;
    if (rank < 2) {
      Tensor out = iota(1000, 10.0f * rank), in(DType::F32, {1000});
      RANK_CHECK_OK(comm->send(out.ref(), other, 7));
      RANK_CHECK_OK(comm->recv(in.ref(), other, 7));
      RANK_CHECK(checkIota(in, 10.0f * other, "exchange"));
    }
    // A pipeline 0 -> 1 -> 2 of two micro-batches, each stage adding its rank.
    for (int micro = 0; micro < 2; ++micro) {
      Tensor activation(DType::F32, {64});
      if (rank == 0)
        activation = iota(64, 1000.0f * micro);
      else
        RANK_CHECK_OK(comm->recv(activation.ref(), rank - 1, micro));
      float *data = activation.data<float>();
      for (int i = 0; i < 64; ++i)
        data[i] += static_cast<float>(rank);
      if (rank < 2) {
        RANK_CHECK_OK(comm->send(activation.ref(), rank + 1, micro));
        RANK_CHECK_OK(comm->flush());
      } else {
        RANK_CHECK(checkIota(activation, 1000.0f * micro + 3.0f, "pipeline"));
      }
    }
    // i64 and bool travel as bytes. Rank 0's sends finish in the background at
    // its next blocking call (the barrier below), so their tensors live until
    // then.
    Tensor flags = contribution(rank, DType::Bool, {33});
    Tensor ids = contribution(rank, DType::I64, {4, 4});
    if (rank == 0) {
      RANK_CHECK_OK(comm->send(flags.ref(), 1, 1));
      RANK_CHECK_OK(comm->send(ids.ref(), 1, 2));
    } else if (rank == 1) {
      RANK_CHECK_OK(comm->recv(flags.ref(), 0, 1));
      RANK_CHECK_OK(comm->recv(ids.ref(), 0, 2));
      RANK_CHECK(compare(flags, contribution(0, DType::Bool, {33}).asDoubles(),
                         "bool recv"));
      RANK_CHECK(compare(ids, contribution(0, DType::I64, {4, 4}).asDoubles(),
                         "i64 recv"));
    }
    // The last blocking call finishes rank 0's background sends.
    RANK_CHECK_OK(comm->barrier());
    return std::string();
  }));
}

TEST(CommunicatorTest, SendRecvNonBlockingOutOfOrder) {
  EXPECT_TRUE(runRanks(2, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 2, dir, 10.0);
    RANK_WORLD(comm, context);
    // Large enough not to fit in the socket buffers in one go.
    const int64_t count = 1 << 20;
    if (rank == 0) {
      Tensor first = iota(count, 1.0f), second = iota(count, -5.0f);
      CommRequest a = comm->isend(first.ref(), 1, 11);
      CommRequest b = comm->isend(second.ref(), 1, 22);
      if (!a.pending() || !b.pending())
        return std::string("isend returned an empty handle");
      RANK_CHECK_OK(b.wait());
      RANK_CHECK_OK(a.wait());
      if (a.pending())
        return std::string("a waited handle is still pending");
      RANK_CHECK_OK(a.wait()); // waiting again is a no-op
      // Round two: both directions in flight at once, handles waited in
      // reverse.
      Tensor back(DType::F32, {count});
      CommRequest in = comm->irecv(back.ref(), 1, 33);
      CommRequest out = comm->isend(first.ref(), 1, 44);
      RANK_CHECK_OK(in.wait());
      RANK_CHECK_OK(out.wait());
      RANK_CHECK(checkIota(back, 7.0f, "irecv"));
    } else {
      // Receive the second transfer (tag 22) before the first (tag 11).
      Tensor second(DType::F32, {count}), first(DType::F32, {count});
      RANK_CHECK_OK(comm->recv(second.ref(), 0, 22));
      CommRequest late = comm->irecv(first.ref(), 0, 11);
      RANK_CHECK_OK(late.wait());
      RANK_CHECK(checkIota(second, -5.0f, "tag 22"));
      RANK_CHECK(checkIota(first, 1.0f, "tag 11"));
      Tensor reply = iota(count, 7.0f), echo(DType::F32, {count});
      CommRequest out = comm->isend(reply.ref(), 0, 33);
      CommRequest in = comm->irecv(echo.ref(), 0, 44);
      RANK_CHECK_OK(out.wait());
      RANK_CHECK_OK(in.wait());
      RANK_CHECK(checkIota(echo, 1.0f, "echo"));
    }
    RANK_CHECK_OK(comm->barrier());
    return std::string();
  }));
}

TEST(CommunicatorTest, BarrierWaitsForEveryMember) {
  EXPECT_TRUE(runRanks(3, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 3, dir, 10.0);
    RANK_WORLD(comm, context);
    // Later ranks arrive later; each leaves a mark before the barrier and,
    // after it, every mark must be there.
    std::this_thread::sleep_for(std::chrono::milliseconds(150 * rank));
    std::ofstream(dir + "/mark" + std::to_string(rank)) << "here";
    RANK_CHECK_OK(comm->barrier());
    for (int r = 0; r < 3; ++r)
      if (!std::filesystem::exists(dir + "/mark" + std::to_string(r)))
        return "after the barrier rank " + std::to_string(r) +
               " has not arrived";
    RANK_CHECK_OK(comm->barrier());
    return std::string();
  }));
}

TEST(CommunicatorTest, ConnectTimesOutWhenARankNeverJoins) {
  // Only rank 0 of a world of 2 starts.
  EXPECT_TRUE(runProcesses(
      {0},
      [](int rank, const std::string &dir) {
        Clock::time_point start = Clock::now();
        Status status;
        std::unique_ptr<CommContext> context =
            CommContext::connect(rank, 2, dir, 2.0, status);
        double seconds = secondsSince(start);
        if (context)
          return std::string("connect succeeded without rank 1");
        std::fprintf(stderr, "rank 0 reports: %s\n", status.message().c_str());
        if (seconds < 1.9 || seconds > 4.0)
          return "connect gave up after " + std::to_string(seconds) + " s";
        return expectContains(
            status.message(),
            "CommContext::connect: creating group {0,1} (world rank 0): timed "
            "out after 2 s waiting for world rank 1 to join");
      },
      10));
}

TEST(CommunicatorTest, CollectiveTimesOutWhenAPeerStalls) {
  EXPECT_TRUE(runRanks(
      2,
      [](int rank, const std::string &dir) {
        RANK_CONNECT(context, rank, 2, dir, 2.0);
        RANK_WORLD(comm, context);
        if (rank == 1) {
          // Alive but never joins the collective.
          std::this_thread::sleep_for(std::chrono::milliseconds(3500));
          return std::string();
        }
        Tensor tensor = contribution(0, DType::F32, {16});
        Clock::time_point start = Clock::now();
        Status status = comm->allReduceSum(tensor.ref());
        double seconds = secondsSince(start);
        if (status.isOk())
          return std::string("allReduceSum succeeded without rank 1");
        if (seconds < 1.9 || seconds > 3.4)
          return "allReduceSum gave up after " + std::to_string(seconds) + " s";
        std::fprintf(stderr, "rank 0 reports: %s\n", status.message().c_str());
        RANK_CHECK(expectContains(status.message(),
                                  "allReduceSum in group {0,1}: failed: "));
        RANK_CHECK(expectContains(status.message(), "Timed out"));
        // The group stays unusable, and says why.
        status = comm->barrier();
        if (status.isOk())
          return std::string("barrier succeeded on a failed group");
        return expectContains(status.message(),
                              "barrier in group {0,1}: the group is unusable "
                              "after an earlier error (allReduceSum");
      },
      15));
}

TEST(CommunicatorTest, DeadPeersAreErrorsNotHangs) {
  EXPECT_TRUE(runRanks(
      3,
      [](int rank, const std::string &dir) {
        RANK_CONNECT(context, rank, 3, dir, 5.0);
        Status status;
        Communicator *withPeer =
            context->group({0, rank == 0 ? 1 : rank}, status);
        Communicator *withOther =
            rank == 0 ? context->group({0, 2}, status) : withPeer;
        if (!withPeer || !withOther)
          return "group: " + status.message();
        RANK_WORLD(world, context);
        RANK_CHECK_OK(world->barrier());
        if (rank != 0)
          _exit(0); // dies without closing anything
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        // Waiting for data from a dead peer.
        Tensor small(DType::F32, {16});
        Clock::time_point start = Clock::now();
        status = withPeer->recv(small.ref(), 1, 0);
        if (status.isOk())
          return std::string("recv from a dead peer succeeded");
        std::fprintf(stderr, "rank 0 reports: %s\n", status.message().c_str());
        RANK_CHECK(expectContains(
            status.message(),
            "recv from member 1 (tag 0) in group {0,1}: failed: "));
        // Writing to a dead peer (no SIGPIPE death).
        Tensor large = contribution(0, DType::F32, {1 << 20});
        status = withOther->allReduceSum(large.ref());
        if (status.isOk())
          return std::string("allReduceSum with a dead peer succeeded");
        std::fprintf(stderr, "rank 0 reports: %s\n", status.message().c_str());
        RANK_CHECK(expectContains(status.message(),
                                  "allReduceSum in group {0,2}: failed: "));
        if (secondsSince(start) > 4.5)
          return "noticing dead peers took " +
                 std::to_string(secondsSince(start)) + " s";
        return std::string();
      },
      15));
}

TEST(CommunicatorTest, BadArgumentsAreErrors) {
  EXPECT_TRUE(runRanks(2, [](int rank, const std::string &dir) {
    RANK_CONNECT(context, rank, 2, dir, 10.0);
    RANK_WORLD(comm, context);
    Status status;
    if (context->group({1, 0}, status) ||
        !expectContains(status.message(), "sorted list").empty())
      return "unsorted group: " + status.message();
    if (context->group({1 - rank}, status) ||
        !expectContains(status.message(), "is not a member").empty())
      return "foreign group: " + status.message();
    Tensor part(DType::F32, {2, 3}), wrong(DType::F32, {2, 5});
    status = comm->allGather(part.ref(), 1, wrong.ref());
    RANK_CHECK(expectContains(status.message(),
                              "allGather in group {0,1}: out has shape 2x5"));
    status = comm->reduceScatterSum(wrong.ref(), 1, part.ref());
    RANK_CHECK(expectContains(status.message(), "does not split into 2"));
    Tensor flags(DType::Bool, {4});
    status = comm->allReduceSum(flags.ref());
    RANK_CHECK(
        expectContains(status.message(), "bool tensors cannot be summed"));
    status = comm->send(part.ref(), rank, 0);
    RANK_CHECK(expectContains(status.message(), "another member"));
    status = comm->isend(part.ref(), 1 - rank, -1).wait();
    RANK_CHECK(expectContains(status.message(), "tags must not be negative"));
    // A group of one needs nobody else.
    Communicator *alone = context->group({rank}, status);
    if (!alone)
      return "group of one: " + status.message();
    Tensor in = contribution(rank, DType::I64, {2, 2});
    Tensor out(DType::I64, {2, 2});
    RANK_CHECK_OK(alone->allGather(in.ref(), 1, out.ref()));
    RANK_CHECK(compare(out, in.asDoubles(), "allGather of one"));
    RANK_CHECK_OK(alone->allReduceSum(in.ref()));
    RANK_CHECK_OK(alone->barrier());
    // The world group still works after the argument errors.
    Tensor sum = contribution(rank, DType::F32, {3});
    RANK_CHECK_OK(comm->allReduceSum(sum.ref()));
    return compare(sum, expectedSum({0, 1}, DType::F32, 3), "allReduceSum");
  }));
}
