//===- NcclCollectives.cpp - collectives over NCCL ------------------------===//
//
// When every rank has a GPU of its own, the program's collectives run over NCCL on a
// communication stream of their own: the stream waits for the compute stream's work so
// far (an event), runs the collective, and the compute stream waits for it in turn. One
// NCCL communicator per group (tp, dp), all created before the first collective is bound,
// in the order of their names: member 0's ncclUniqueId reaches the others over the group's
// Gloo communicator, the rendezvous parc-run already made. Creating them lazily, in each
// rank's program order, deadlocked ranks whose programs first use their groups in
// different orders (ncclCommInitRank and the id's exchange block until every member
// arrives); one order for every rank, by name, cannot (a rank is in at most one group of a
// name, so two groups sharing ranks differ in name).
//
// NCCL gathers and scatters whole blocks, rank after rank; parc's all_gather and
// reduce_scatter work along any axis, so for an axis with dims before it the blocks are
// reordered (BlockReorder.h).
//
//===----------------------------------------------------------------------===//

#include "BlockReorder.h"
#include "CudaApi.h"
#include "CudaBackend.h"

#include "parc/Runtime/Communicator.h"

#include <cstring>
#include <map>
#include <set>

using namespace parc::rt;

namespace {

int ncclTypeOf(DType dtype) {
  switch (dtype) {
  case DType::F32: return cuda::kNcclFloat32;
  case DType::F16: return cuda::kNcclFloat16;
  case DType::BF16: return cuda::kNcclBfloat16;
  case DType::I64: return cuda::kNcclInt64;
  case DType::I32: return cuda::kNcclInt32;
  case DType::Bool: return cuda::kNcclUint8;
  }
  return cuda::kNcclUint8;
}

/// Dims before `axis` (outer) and the bytes of one block after it, of `tensor`'s shape.
std::pair<size_t, size_t> outerAndBlockBytes(const TensorRef &tensor, int64_t axis) {
  size_t outer = 1, block = dtypeSize(tensor.dtype);
  for (int64_t d = 0; d < tensor.rank(); ++d)
    (d < axis ? outer : block) *= tensor.shape[d];
  return {outer, block};
}

class NcclCollectives : public DeviceCollectives {
public:
  NcclCollectives(GpuDevice &device, const CommunicatorGroups &groups)
      : device(device), driver(*device.driverApi()), groups(groups) {}
  ~NcclCollectives() override {
    for (auto &[name, comm] : comms)
      nccl.commDestroy(comm);
    for (void *buffer : scratch)
      device.deallocate(buffer);
  }

  /// Loads NCCL (or takes `table`) and creates the communicator of every group in
  /// `collectiveGroups`, in name order.
  Status open(const cuda::Nccl *table, const std::set<std::string> &collectiveGroups);
  Status bind(const std::string &op, const std::string &group, int64_t axis,
              const TensorRef &in, const TensorRef &out, BoundKernel &kernel) override;

private:
  Status communicator(const std::string &group, cuda::NcclComm &comm, int &size);
  Status check(cuda::NcclResult result, const char *call) const {
    return result == 0 ? Status::ok()
                       : Status::error(std::string(call) + " failed: " + nccl.getErrorString(result));
  }
  Status checkDriver(cuda::Result result, const char *call) const {
    return result == 0 ? Status::ok()
                       : Status::error(std::string(call) + " failed with CUDA error " +
                                       std::to_string(result));
  }

  GpuDevice &device;
  const cuda::Driver &driver;
  const CommunicatorGroups &groups;
  cuda::Nccl nccl{};
  cuda::Stream commStream = nullptr;
  cuda::Event computeDone = nullptr, commDone = nullptr;
  std::map<std::string, cuda::NcclComm> comms;
  std::vector<void *> scratch;
};

Status NcclCollectives::open(const cuda::Nccl *table,
                             const std::set<std::string> &collectiveGroups) {
  std::string error;
  if (table)
    nccl = *table;
  else if (!cuda::loadNccl(nccl, error))
    return Status::error(error + " (collectives between GPUs run over NCCL)");
  PARC_RETURN_IF_ERROR(checkDriver(driver.streamCreate(&commStream, cuda::kStreamNonBlocking),
                                   "cuStreamCreate"));
  // CU_EVENT_DISABLE_TIMING (2): ordering only.
  PARC_RETURN_IF_ERROR(checkDriver(driver.eventCreate(&computeDone, 2), "cuEventCreate"));
  PARC_RETURN_IF_ERROR(checkDriver(driver.eventCreate(&commDone, 2), "cuEventCreate"));
  for (const std::string &group : collectiveGroups) { // a std::set: in name order
    cuda::NcclComm comm = nullptr;
    int size = 1;
    PARC_RETURN_IF_ERROR(communicator(group, comm, size));
  }
  return Status::ok();
}

Status NcclCollectives::communicator(const std::string &group, cuda::NcclComm &comm,
                                     int &size) {
  auto it = groups.find(group);
  if (it == groups.end() || !it->second)
    return Status::error("no communicator for group '" + group + "'");
  Communicator *gloo = it->second;
  size = gloo->size();
  if (auto known = comms.find(group); known != comms.end()) {
    comm = known->second;
    return Status::ok();
  }
  // Every member gathers every member's id and uses member 0's.
  cuda::NcclUniqueId id{};
  if (gloo->rank() == 0)
    PARC_RETURN_IF_ERROR(check(nccl.getUniqueId(&id), "ncclGetUniqueId"));
  constexpr int64_t words = sizeof(id) / sizeof(int32_t);
  std::vector<int32_t> mine(words), all(words * size);
  std::memcpy(mine.data(), &id, sizeof(id));
  PARC_RETURN_IF_ERROR(gloo->allGather(TensorRef{mine.data(), DType::I32, {words}}, 0,
                                       TensorRef{all.data(), DType::I32, {words * size}}));
  std::memcpy(&id, all.data(), sizeof(id));
  PARC_RETURN_IF_ERROR(check(nccl.commInitRank(&comm, size, id, gloo->rank()), "ncclCommInitRank"));
  comms[group] = comm;
  return Status::ok();
}

Status NcclCollectives::bind(const std::string &op, const std::string &group, int64_t axis,
                             const TensorRef &in, const TensorRef &out, BoundKernel &kernel) {
  cuda::NcclComm comm = nullptr;
  int size = 1;
  PARC_RETURN_IF_ERROR(communicator(group, comm, size));
  int type = ncclTypeOf(in.dtype);
  // Blocks rank after rank, for an axis with dims before it.
  auto [outer, block] = outerAndBlockBytes(in, axis);
  void *staging = nullptr;
  if (op != "all_reduce" && outer > 1) {
    staging = device.allocate(op == "all_gather" ? out.bytes() : in.bytes());
    if (!staging)
      return Status::error(device.describe() + " is out of memory for a collective's buffer");
    scratch.push_back(staging);
  }
  NcclCollectives *self = this;
  kernel = [=]() -> Status {
    cuda::Stream compute = self->device.computeStream();
    const cuda::Driver &d = self->driver;
    if (op == "reduce_scatter" && staging) // rank r's part contiguous
      PARC_RETURN_IF_ERROR(axisToRankMajor(self->device, staging, in.data, outer, block / size, size));
    PARC_RETURN_IF_ERROR(self->checkDriver(d.eventRecord(self->computeDone, compute), "cuEventRecord"));
    PARC_RETURN_IF_ERROR(self->checkDriver(d.streamWaitEvent(self->commStream, self->computeDone, 0),
                                           "cuStreamWaitEvent"));
    if (op == "all_reduce") {
      PARC_RETURN_IF_ERROR(self->check(self->nccl.allReduce(in.data, out.data, in.numElements(), type,
                                                            cuda::kNcclSum, comm, self->commStream),
                                       "ncclAllReduce"));
    } else if (op == "all_gather") {
      PARC_RETURN_IF_ERROR(self->check(self->nccl.allGather(in.data, staging ? staging : out.data,
                                                            in.numElements(), type, comm,
                                                            self->commStream),
                                       "ncclAllGather"));
    } else {
      PARC_RETURN_IF_ERROR(self->check(
          self->nccl.reduceScatter(staging ? staging : in.data, out.data, out.numElements(), type,
                                   cuda::kNcclSum, comm, self->commStream),
          "ncclReduceScatter"));
    }
    PARC_RETURN_IF_ERROR(self->checkDriver(d.eventRecord(self->commDone, self->commStream), "cuEventRecord"));
    PARC_RETURN_IF_ERROR(self->checkDriver(d.streamWaitEvent(compute, self->commDone, 0),
                                           "cuStreamWaitEvent"));
    if (op == "all_gather" && staging)
      PARC_RETURN_IF_ERROR(rankMajorToAxis(self->device, out.data, staging, outer, block, size));
    return Status::ok();
  };
  return Status::ok();
}

} // namespace

std::unique_ptr<DeviceCollectives>
parc::rt::createNcclCollectives(GpuDevice &device, const CommunicatorGroups &groups,
                                const std::set<std::string> &collectiveGroups, Status &status,
                                const cuda::Nccl *nccl) {
  if (!device.driverApi()) {
    status = Status::error("NCCL needs a GPU driven by the NVIDIA driver");
    return nullptr;
  }
  auto collectives = std::make_unique<NcclCollectives>(device, groups);
  status = collectives->open(nccl, collectiveGroups);
  if (!status)
    return nullptr;
  return collectives;
}
