//===- CpuBackend.cpp - the CPU backend -----------------------------------===//
//
// Binds each instruction to the matching kernel of lib/cpu (CpuKernels.h). Memory is plain
// 64-byte-aligned host memory.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Backend.h"

#include "cpu/CpuKernels.h"

#include "parc/artifact/artifact.pb.h"

#include <cstdlib>
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
              BoundKernel &kernel) override;
};

Status CpuBackend::bind(const parc::artifact::Instruction &inst,
                        const std::vector<TensorRef> &in,
                        const std::vector<TensorRef> &out, BoundKernel &kernel) {
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
