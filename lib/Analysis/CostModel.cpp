//===- CostModel.cpp - a rank's program priced on a machine profile -------===//

#include "parc/Analysis/CostModel.h"
#include "parc/Analysis/CostFormulas.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

using namespace mlir;
using namespace mlir::parc;

/// The profile's peak key for `element`: its own when the device has one, else f32's
/// (the type integer and 16-bit work falls back to on a CPU).
static StringRef peakKey(Type element, const DeviceProfile &device) {
  StringRef key = element.isF16() ? "f16" : element.isBF16() ? "bf16" : "f32";
  if (device.peakFlops.count(key.str()))
    return key;
  if (device.peakFlops.count("f32"))
    return "f32";
  return device.peakFlops.begin()->first;
}

static int64_t bytesOf(Value value) {
  return getStorageBytes(cast<RankedTensorType>(value.getType()));
}

/// A collective over the module's mesh axis `group` ("tp", "dp"), moving `buffer` (the
/// whole tensor: an all-reduce's, a gathered result, a scattered input) as `formula` says
/// on the link the group communicates over.
using CollectiveFormula = double (*)(double bytes, int64_t ranks, const LinkProfile &link);
/// Along a non-leading `axis` the collective's relayout (collectiveRelayoutBytes) adds
/// its copy at the device's memory bandwidth.
static ProgramTime collectiveTime(Operation *op, StringRef group, Value buffer,
                                  CollectiveFormula formula, const MachineProfile &machine,
                                  std::optional<int64_t> axis = std::nullopt) {
  int64_t ranks = getMeshAxisSize(op, group).value_or(1);
  ProgramTime time;
  time.communication = formula(bytesOf(buffer), ranks, machine.linkFor(ranks));
  if (axis && ranks > 1)
    if (double bytes = collectiveRelayoutBytes(cast<RankedTensorType>(buffer.getType()), *axis))
      time.communication += memorySeconds(bytes, machine.device);
  return time;
}

double mlir::parc::collectiveRelayoutBytes(RankedTensorType whole, int64_t dim) {
  if (dim < 0)
    dim += whole.getRank();
  int64_t outer = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= whole.getDimSize(d);
  return outer > 1 ? 2.0 * getStorageBytes(whole) : 0.0;
}

bool mlir::parc::isStridedTranspose(Operation *op) {
  auto transpose = dyn_cast<TransposeOp>(op);
  if (!transpose)
    return false;
  ArrayRef<int64_t> permutation = transpose.getPermutation();
  return !permutation.empty() &&
         permutation.back() != static_cast<int64_t>(permutation.size()) - 1;
}

bool mlir::parc::isGemmOperandTranspose(Operation *op) {
  auto transpose = dyn_cast<TransposeOp>(op);
  if (!transpose)
    return false;
  ArrayRef<int64_t> permutation = transpose.getPermutation();
  int64_t rank = permutation.size();
  if (rank < 2 || permutation[rank - 1] != rank - 2 || permutation[rank - 2] != rank - 1)
    return false;
  for (int64_t d = 0; d + 2 < rank; ++d)
    if (permutation[d] != d)
      return false;
  return !op->use_empty() &&
         llvm::all_of(op->getUsers(), [](Operation *user) { return isa<MatMulOp>(user); });
}

ProgramTime mlir::parc::predictOpTime(Operation *op, const MachineProfile &machine) {
  if (auto reduce = dyn_cast<AllReduceOp>(op))
    return collectiveTime(op, reduce.getGroup(), reduce.getInput(), ringAllReduceSeconds,
                          machine);
  if (auto start = dyn_cast<AllReduceStartOp>(op))
    return collectiveTime(op, start.getGroup(), start.getInput(), ringAllReduceSeconds,
                          machine);
  if (auto gather = dyn_cast<AllGatherOp>(op))
    return collectiveTime(op, gather.getGroup(), gather.getResult(), ringAllGatherSeconds,
                          machine, gather.getAxis());
  if (auto scatter = dyn_cast<ReduceScatterOp>(op))
    return collectiveTime(op, scatter.getGroup(), scatter.getInput(), ringAllGatherSeconds,
                          machine, scatter.getAxis());
  ProgramTime time;
  if (auto send = dyn_cast<SendOp>(op)) {
    // Between pipeline stages: inside a node when the stages' ranks are.
    int64_t span = getMeshAxisSize(op, "tp").value_or(1) * 2;
    time.communication = sendSeconds(bytesOf(send.getInput()), machine.linkFor(span));
    return time;
  }
  // Waits, receives (priced at their send) and renames of memory cost nothing.
  if (isa<AllReduceWaitOp, SendWaitOp, RecvOp, RecvWaitOp, ReshapeOp, LoadWeightOp,
          ConstantOp>(op) ||
      op->getNumResults() == 0 || !isa<ParcDialect>(op->getDialect()))
    return time;
  if (machine.device.gemmTransposesOperands && isGemmOperandTranspose(op))
    return time;
  OpCost cost = getOpCost(op);
  Type element = cast<RankedTensorType>(op->getResult(0).getType()).getElementType();
  double bytes = cost.bytesRead + cost.bytesWritten;
  if (isStridedTranspose(op))
    bytes /= machine.device.transposeEfficiency;
  time.compute = kernelSeconds(cost.flops, bytes,
                               peakKey(element, machine.device), machine.device);
  return time;
}

ProgramTime mlir::parc::predictProgramTime(func::FuncOp function,
                                           const MachineProfile &machine) {
  ProgramTime total;
  function.walk([&](Operation *op) {
    ProgramTime time = predictOpTime(op, machine);
    total.compute += time.compute;
    total.communication += time.communication;
  });
  return total;
}
