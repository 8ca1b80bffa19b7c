//===- CpuBackend.cpp - the CPU backend -----------------------------------===//
//
// Binds each instruction to its kernel of lib/cpu through the kernel registry
// (cpu/KernelRegistry.h); the communication kernels (collectives over the rank's Gloo
// groups, shard ops) are bound here. Memory is plain 64-byte-aligned host memory.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Backend.h"
#include "parc/Runtime/Communicator.h"

#include "BackendRegistry.h"
#include "cpu/CpuKernels.h"
#include "cpu/KernelRegistry.h"

#include "parc/artifact/artifact.pb.h"

#include <cstdlib>
#include <cstring>
#include <map>

using namespace parc::rt;

namespace {

/// Copies rank `rank`'s block of `in` along `axis` into `out`: the axis is viewed as
/// [groups, ranks, block] and the rank keeps [:, rank, :] (ShardingAttr's layout).
void shardSlice(const TensorRef &in, int64_t axis, int64_t groups, int64_t rank,
                int64_t ranks, const TensorRef &out) {
  int64_t outer = 1, inner = dtypeSize(in.dtype);
  for (int64_t d = 0; d < axis; ++d)
    outer *= in.shape[d];
  for (int64_t d = axis + 1; d < in.rank(); ++d)
    inner *= in.shape[d];
  int64_t dim = in.shape[axis], block = dim / (groups * ranks);
  const char *source = static_cast<const char *>(in.data);
  char *target = static_cast<char *>(out.data);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t g = 0; g < groups; ++g) {
      std::memcpy(target, source + (o * dim + (g * ranks + rank) * block) * inner,
                  block * inner);
      target += block * inner;
    }
}

/// Gathers along `axis` from rank `rank`'s block of a table split there over `ranks` ranks;
/// indices address the whole table; entries outside the block are zero.
Status shardGather(const TensorRef &in, const TensorRef &indices, int64_t axis,
                   int64_t rank, int64_t ranks, const TensorRef &out) {
  int64_t local = in.shape[axis], whole = local * ranks, first = rank * local;
  int64_t outer = 1, inner = dtypeSize(in.dtype);
  for (int64_t d = 0; d < axis; ++d)
    outer *= in.shape[d];
  for (int64_t d = axis + 1; d < in.rank(); ++d)
    inner *= in.shape[d];
  int64_t count = indices.numElements();
  const char *source = static_cast<const char *>(in.data);
  char *target = static_cast<char *>(out.data);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < count; ++k, target += inner) {
      int64_t index = indices.dtype == DType::I64 ? indices.as<const int64_t>()[k]
                                                  : indices.as<const int32_t>()[k];
      int64_t wrapped = index < 0 ? index + whole : index;
      if (wrapped < 0 || wrapped >= whole)
        return Status::error("shard_gather: index " + std::to_string(index) +
                             " is out of range for a dim of size " +
                             std::to_string(whole));
      if (wrapped >= first && wrapped < first + local)
        std::memcpy(target, source + (o * local + wrapped - first) * inner, inner);
      else
        std::memset(target, 0, inner);
    }
  return Status::ok();
}

} // namespace

/// Collectives run on the host through the rank's communicator for the op's group; shard
/// ops take or look up this rank's block.
void cpu::addCommunicationKernels(cpu::KernelRegistry &kernels) {
  using Inst = parc::artifact::Instruction;
  using Tensors = std::vector<TensorRef>;
  auto communicator = [](const Inst &inst, const CommunicatorGroups &groups,
                         Communicator *&comm) {
    auto it = groups.find(inst.collective().group());
    if (it == groups.end() || !it->second)
      return Status::error("no communicator for group '" + inst.collective().group() + "'");
    comm = it->second;
    return Status::ok();
  };
  kernels.add("all_reduce", [=](const Inst &inst, const Tensors &in, const Tensors &out,
                                const CommunicatorGroups &groups, BoundKernel &kernel) {
    Communicator *comm = nullptr;
    PARC_RETURN_IF_ERROR(communicator(inst, groups, comm));
    PARC_RETURN_IF_ERROR(cpu::expectArity(in, out, 1));
    kernel = [=]() {
      cpu::copy(in[0], out[0]);
      return comm->allReduceSum(out[0]);
    };
    return Status::ok();
  });
  // Collectives along an axis: the gathered or scattered dim.
  using AlongAxis = Status (Communicator::*)(const TensorRef &, int64_t, const TensorRef &);
  for (auto [name, collective] :
       {std::pair<const char *, AlongAxis>{"all_gather", &Communicator::allGather},
        {"reduce_scatter", &Communicator::reduceScatterSum}})
    kernels.add(name, [=, collective = collective](const Inst &inst, const Tensors &in,
                                                   const Tensors &out,
                                                   const CommunicatorGroups &groups,
                                                   BoundKernel &kernel) {
      Communicator *comm = nullptr;
      PARC_RETURN_IF_ERROR(communicator(inst, groups, comm));
      PARC_RETURN_IF_ERROR(cpu::expectArity(in, out, 1));
      int64_t axis = inst.collective().axis();
      kernel = [=]() { return (comm->*collective)(in[0], axis, out[0]); };
      return Status::ok();
    });
  kernels.add("shard_slice", [](const Inst &inst, const Tensors &in, const Tensors &out,
                                const CommunicatorGroups &, BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(cpu::expectArity(in, out, 1));
    const parc::artifact::ShardParams &shard = inst.shard();
    int64_t axis = shard.axis(), groupCount = std::max<int64_t>(1, shard.groups());
    int64_t rank = shard.rank(), ranks = std::max(1, shard.ranks());
    kernel = cpu::infallible([=] { shardSlice(in[0], axis, groupCount, rank, ranks, out[0]); });
    return Status::ok();
  });
  kernels.add("shard_gather", [](const Inst &inst, const Tensors &in, const Tensors &out,
                                 const CommunicatorGroups &, BoundKernel &kernel) {
    PARC_RETURN_IF_ERROR(cpu::expectArity(in, out, 2));
    const parc::artifact::ShardParams &shard = inst.shard();
    int64_t axis = shard.axis(), rank = shard.rank(), ranks = std::max(1, shard.ranks());
    kernel = [=]() { return shardGather(in[0], in[1], axis, rank, ranks, out[0]); };
    return Status::ok();
  });
}

const cpu::KernelRegistry &cpu::cpuKernels() {
  static const cpu::KernelRegistry kernels = [] {
    cpu::KernelRegistry registry;
    cpu::addElementwiseKernels(registry);
    cpu::addReductionKernels(registry);
    cpu::addDataMovementKernels(registry);
    cpu::addMatMulKernels(registry);
    cpu::addCommunicationKernels(registry);
    return registry;
  }();
  return kernels;
}

namespace {

class CpuBackend : public Backend {
public:
  explicit CpuBackend(int threads) { cpu::setCpuThreads(threads); }
  const char *name() const override { return "cpu"; }

  void *allocate(size_t bytes) override {
    size_t rounded = (bytes + 63) / 64 * 64;
    return std::aligned_alloc(64, rounded);
  }
  void deallocate(void *pointer) override { std::free(pointer); }

  Status bind(const parc::artifact::Instruction &inst,
              const std::vector<TensorRef> &in, const std::vector<TensorRef> &out,
              const CommunicatorGroups &groups, BoundKernel &kernel) override {
    const cpu::KernelBinder *binder = cpu::cpuKernels().find(inst.op());
    if (!binder)
      return Status::error("the cpu backend has no kernel for '" + inst.op() + "'");
    return (*binder)(inst, in, out, groups, kernel);
  }
};

} // namespace

std::unique_ptr<Backend> parc::rt::createCpuBackend(int threads) {
  return std::make_unique<CpuBackend>(threads);
}

namespace {
Status checkCpuMachine(const parc::artifact::Manifest &) { return Status::ok(); }
std::unique_ptr<Backend> createForRank(const parc::artifact::Manifest &, const LaunchOptions &,
                                       const CommunicatorGroups &, int threads, Status &) {
  return createCpuBackend(threads);
}
} // namespace

const BackendProvider &parc::rt::cpuBackendProvider() {
  static const BackendProvider provider{"cpu", checkCpuMachine, createForRank};
  return provider;
}
