//===- CpuBackend.cpp - the CPU backend -----------------------------------===//
//
// Binds each instruction to the matching kernel of lib/cpu (CpuKernels.h). Memory is plain
// 64-byte-aligned host memory.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Backend.h"
#include "parc/Runtime/Communicator.h"

#include "cpu/CpuKernels.h"

#include "parc/artifact/artifact.pb.h"

#include <cstdlib>
#include <cstring>
#include <map>

using namespace parc::rt;

namespace {

const std::map<std::string, cpu::BinaryOp> &binaryOps() {
  static const std::map<std::string, cpu::BinaryOp> ops = {
      {"add", cpu::BinaryOp::Add},         {"sub", cpu::BinaryOp::Sub},
      {"mul", cpu::BinaryOp::Mul},         {"div", cpu::BinaryOp::Div},
      {"pow", cpu::BinaryOp::Pow},         {"max", cpu::BinaryOp::Max},
      {"min", cpu::BinaryOp::Min},         {"equal", cpu::BinaryOp::Equal},
      {"less", cpu::BinaryOp::Less},       {"greater", cpu::BinaryOp::Greater},
      {"and", cpu::BinaryOp::And},         {"or", cpu::BinaryOp::Or}};
  return ops;
}

const std::map<std::string, cpu::UnaryOp> &unaryOps() {
  static const std::map<std::string, cpu::UnaryOp> ops = {
      {"neg", cpu::UnaryOp::Neg},         {"abs", cpu::UnaryOp::Abs},
      {"relu", cpu::UnaryOp::Relu},       {"exp", cpu::UnaryOp::Exp},
      {"log", cpu::UnaryOp::Log},         {"sqrt", cpu::UnaryOp::Sqrt},
      {"reciprocal", cpu::UnaryOp::Reciprocal},
      {"tanh", cpu::UnaryOp::Tanh},       {"erf", cpu::UnaryOp::Erf},
      {"sigmoid", cpu::UnaryOp::Sigmoid}, {"sin", cpu::UnaryOp::Sin},
      {"cos", cpu::UnaryOp::Cos},         {"not", cpu::UnaryOp::Not}};
  return ops;
}

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
              const CommunicatorGroups &groups, BoundKernel &kernel) override;

private:
  Status bindCollective(const parc::artifact::Instruction &inst,
                        const std::vector<TensorRef> &in,
                        const std::vector<TensorRef> &out,
                        const CommunicatorGroups &groups, BoundKernel &kernel);
};

/// Collectives run on the host through the rank's communicator for the op's group.
Status CpuBackend::bindCollective(const parc::artifact::Instruction &inst,
                                  const std::vector<TensorRef> &in,
                                  const std::vector<TensorRef> &out,
                                  const CommunicatorGroups &groups,
                                  BoundKernel &kernel) {
  InstructionAttributes attrs(inst);
  std::string group = attrs.getString("group");
  auto it = groups.find(group);
  if (it == groups.end() || !it->second)
    return Status::error("no communicator for group '" + group + "'");
  Communicator *comm = it->second;
  if (in.size() != 1 || out.size() != 1)
    return Status::error("expects 1 operand and 1 result");
  const std::string &op = inst.op();
  if (op == "all_reduce") {
    kernel = [=]() {
      cpu::copy(in[0], out[0]);
      return comm->allReduceSum(out[0]);
    };
    return Status::ok();
  }
  int64_t axis = attrs.getInt("axis");
  if (op == "all_gather") {
    kernel = [=]() { return comm->allGather(in[0], axis, out[0]); };
    return Status::ok();
  }
  if (op == "reduce_scatter") {
    kernel = [=]() { return comm->reduceScatterSum(in[0], axis, out[0]); };
    return Status::ok();
  }
  return Status::error("unknown collective '" + op + "'");
}

Status CpuBackend::bind(const parc::artifact::Instruction &inst,
                        const std::vector<TensorRef> &in,
                        const std::vector<TensorRef> &out,
                        const CommunicatorGroups &groups, BoundKernel &kernel) {
  const std::string &op = inst.op();
  InstructionAttributes attrs(inst);
  auto expect = [&](size_t operands) {
    if (in.size() != operands || out.size() != 1)
      return Status::error("expects " + std::to_string(operands) +
                           " operands and 1 result");
    return Status::ok();
  };
  auto done = [](auto fn) -> BoundKernel {
    return [fn]() {
      fn();
      return Status::ok();
    };
  };

  if (op == "all_reduce" || op == "all_gather" || op == "reduce_scatter")
    return bindCollective(inst, in, out, groups, kernel);
  if (op == "shard_slice") {
    PARC_RETURN_IF_ERROR(expect(1));
    int64_t axis = attrs.getInt("axis"), groupCount = attrs.getInt("groups", 1);
    int64_t rank = attrs.getInt("rank"), ranks = attrs.getInt("ranks", 1);
    kernel = done([=] { shardSlice(in[0], axis, groupCount, rank, ranks, out[0]); });
    return Status::ok();
  }
  if (op == "shard_gather") {
    PARC_RETURN_IF_ERROR(expect(2));
    int64_t axis = attrs.getInt("axis");
    int64_t rank = attrs.getInt("rank"), ranks = attrs.getInt("ranks", 1);
    kernel = [=]() { return shardGather(in[0], in[1], axis, rank, ranks, out[0]); };
    return Status::ok();
  }
  if (op == "mod") {
    PARC_RETURN_IF_ERROR(expect(2));
    cpu::BinaryOp kind =
        attrs.has("fmod") ? cpu::BinaryOp::FMod : cpu::BinaryOp::Mod;
    kernel = [=]() { return cpu::binary(kind, in[0], in[1], out[0]); };
    return Status::ok();
  }
  if (op == "gather_elements") {
    PARC_RETURN_IF_ERROR(expect(2));
    int64_t axis = attrs.getInt("axis");
    kernel = [=]() { return cpu::gatherElements(in[0], in[1], axis, out[0]); };
    return Status::ok();
  }
  if (auto it = binaryOps().find(op); it != binaryOps().end()) {
    PARC_RETURN_IF_ERROR(expect(2));
    cpu::BinaryOp kind = it->second;
    kernel = [=]() { return cpu::binary(kind, in[0], in[1], out[0]); };
    return Status::ok();
  }
  if (auto it = unaryOps().find(op); it != unaryOps().end()) {
    PARC_RETURN_IF_ERROR(expect(1));
    cpu::UnaryOp kind = it->second;
    kernel = done([=] { cpu::unary(kind, in[0], out[0]); });
    return Status::ok();
  }
  if (op == "gelu") {
    PARC_RETURN_IF_ERROR(expect(1));
    cpu::UnaryOp kind = attrs.has("tanh_approximation") ? cpu::UnaryOp::GeluTanh
                                                         : cpu::UnaryOp::Gelu;
    kernel = done([=] { cpu::unary(kind, in[0], out[0]); });
    return Status::ok();
  }
  if (op == "select") {
    PARC_RETURN_IF_ERROR(expect(3));
    kernel = done([=] { cpu::select(in[0], in[1], in[2], out[0]); });
    return Status::ok();
  }
  if (op == "convert") {
    PARC_RETURN_IF_ERROR(expect(1));
    kernel = done([=] { cpu::convert(in[0], out[0]); });
    return Status::ok();
  }
  if (op == "matmul") {
    PARC_RETURN_IF_ERROR(expect(2));
    kernel = done([=] { cpu::matmul(in[0], in[1], out[0]); });
    return Status::ok();
  }
  if (op == "reduce_sum" || op == "reduce_mean" || op == "reduce_max") {
    PARC_RETURN_IF_ERROR(expect(1));
    cpu::ReduceOp kind = op == "reduce_sum"    ? cpu::ReduceOp::Sum
                         : op == "reduce_mean" ? cpu::ReduceOp::Mean
                                               : cpu::ReduceOp::Max;
    std::vector<int64_t> axes = attrs.getInts("axes");
    kernel = done([=] { cpu::reduce(kind, in[0], axes, out[0]); });
    return Status::ok();
  }
  if (op == "softmax" || op == "log_softmax") {
    PARC_RETURN_IF_ERROR(expect(1));
    int64_t axis = attrs.getInt("axis");
    bool logarithm = op == "log_softmax";
    kernel = done([=] { cpu::softmax(in[0], axis, logarithm, out[0]); });
    return Status::ok();
  }
  if (op == "transpose") {
    PARC_RETURN_IF_ERROR(expect(1));
    std::vector<int64_t> permutation = attrs.getInts("permutation");
    kernel = done([=] { cpu::transpose(in[0], permutation, out[0]); });
    return Status::ok();
  }
  if (op == "concat") {
    if (in.empty() || out.size() != 1)
      return Status::error("expects operands and 1 result");
    int64_t axis = attrs.getInt("axis");
    kernel = done([=] { cpu::concat(in, axis, out[0]); });
    return Status::ok();
  }
  if (op == "slice") {
    PARC_RETURN_IF_ERROR(expect(1));
    std::vector<int64_t> starts = attrs.getInts("start_indices");
    std::vector<int64_t> strides = attrs.getInts("strides");
    kernel = done([=] { cpu::slice(in[0], starts, strides, out[0]); });
    return Status::ok();
  }
  if (op == "gather") {
    PARC_RETURN_IF_ERROR(expect(2));
    int64_t axis = attrs.getInt("axis");
    kernel = [=]() { return cpu::gather(in[0], in[1], axis, out[0]); };
    return Status::ok();
  }
  if (op == "assign_weight") {
    if (in.size() != 2 || !out.empty())
      return Status::error("expects 2 operands (the weight, its new value) and no result");
    kernel = done([=] { cpu::copy(in[1], in[0]); });
    return Status::ok();
  }
  if (op == "scatter_add") {
    PARC_RETURN_IF_ERROR(expect(2));
    int64_t axis = attrs.getInt("axis");
    kernel = [=]() { return cpu::scatterAdd(in[0], in[1], axis, out[0]); };
    return Status::ok();
  }
  if (op == "broadcast_to") {
    PARC_RETURN_IF_ERROR(expect(1));
    kernel = done([=] { cpu::broadcastTo(in[0], out[0]); });
    return Status::ok();
  }
  if (op == "reshape") {
    PARC_RETURN_IF_ERROR(expect(1));
    kernel = done([=] { cpu::copy(in[0], out[0]); });
    return Status::ok();
  }
  return Status::error("the cpu backend has no kernel for '" + op + "'");
}

} // namespace

std::unique_ptr<Backend> parc::rt::createCpuBackend(int threads) {
  return std::make_unique<CpuBackend>(threads);
}
