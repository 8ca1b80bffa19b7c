//===- Recompute.cpp - which activations a backward step recomputes -------===//

#include "Recompute.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::parc;

std::optional<RecomputePolicy> mlir::parc::parseRecomputePolicy(StringRef name) {
  return llvm::StringSwitch<std::optional<RecomputePolicy>>(name)
      .Case("none", RecomputePolicy::None)
      .Case("full", RecomputePolicy::Full)
      .Case("selective", RecomputePolicy::Selective)
      .Case("auto", RecomputePolicy::Auto)
      .Default(std::nullopt);
}

static double bytesOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type ? double(getStorageBytes(type)) : 0;
}

double mlir::parc::opFlops(Operation *op) {
  double flops = 0;
  for (Value result : op->getResults())
    if (auto type = dyn_cast<RankedTensorType>(result.getType()))
      flops += double(type.getNumElements());
  if (auto matmul = dyn_cast<MatMulOp>(op))
    flops *= 2.0 * cast<RankedTensorType>(matmul.getLhs().getType()).getShape().back();
  return flops;
}

/// An attention-score op: no weight read, a result of rank >= 3 ending in two equal dims.
static bool isScoreOp(Operation *op) {
  if (op->getNumResults() != 1 ||
      llvm::any_of(op->getOperands(), [](Value v) { return v.getDefiningOp<LoadWeightOp>(); }))
    return false;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || type.getRank() < 3)
    return false;
  ArrayRef<int64_t> shape = type.getShape();
  return shape.back() > 1 && shape.back() == shape[shape.size() - 2];
}

double mlir::parc::keptBytes(const ChunkActivations &chunk,
                             const llvm::DenseSet<Operation *> &recomputed) {
  llvm::DenseSet<Value> kept;
  auto keep = [&](Value value) {
    Operation *def = value.getDefiningOp();
    if (!chunk.isFree(value) && !(def && recomputed.contains(def)))
      kept.insert(value);
  };
  for (Operation *op : chunk.forwardOps) {
    for (Value result : op->getResults())
      if (chunk.usedByBackward(result))
        keep(result);
    for (Value operand : op->getOperands())
      if (chunk.usedByBackward(operand) || recomputed.contains(op))
        keep(operand);
  }
  double bytes = 0;
  for (Value value : kept)
    bytes += bytesOf(value);
  return bytes;
}

llvm::DenseSet<Operation *> mlir::parc::chooseRecomputed(const ChunkActivations &chunk,
                                                         RecomputePolicy policy,
                                                         double budgetBytes, bool &fits) {
  llvm::DenseSet<Operation *> recomputed;
  fits = true;
  switch (policy) {
  case RecomputePolicy::None:
    return recomputed;
  case RecomputePolicy::Full:
    recomputed.insert(chunk.forwardOps.begin(), chunk.forwardOps.end());
    return recomputed;
  case RecomputePolicy::Selective:
    for (Operation *op : chunk.forwardOps)
      if (isScoreOp(op))
        recomputed.insert(op);
    return recomputed;
  case RecomputePolicy::Auto:
    break;
  }
  // Greedy: recompute the op that frees the most kept bytes per FLOP, until the chunk
  // keeps within the budget. An op's gain is its kept result, less the operands it would
  // newly keep.
  double kept = keptBytes(chunk, recomputed);
  llvm::DenseSet<Value> keptValues;
  auto isKept = [&](Value value) {
    Operation *def = value.getDefiningOp();
    if (chunk.isFree(value) || (def && recomputed.contains(def)))
      return false;
    if (chunk.usedByBackward(value))
      return true;
    return llvm::any_of(value.getUsers(), [&](Operation *user) {
      return recomputed.contains(user);
    });
  };
  while (kept > budgetBytes) {
    Operation *best = nullptr;
    double bestRatio = 0;
    for (Operation *op : chunk.forwardOps) {
      if (recomputed.contains(op))
        continue;
      double gain = 0;
      for (Value result : op->getResults())
        if (isKept(result))
          gain += bytesOf(result);
      for (Value operand : op->getOperands())
        if (!isKept(operand) && !chunk.isFree(operand) &&
            !(operand.getDefiningOp() && recomputed.contains(operand.getDefiningOp())))
          gain -= bytesOf(operand);
      if (gain <= 0)
        continue;
      double ratio = gain / std::max(1.0, opFlops(op));
      if (ratio > bestRatio) {
        bestRatio = ratio;
        best = op;
      }
    }
    if (!best)
      break;
    recomputed.insert(best);
    kept = keptBytes(chunk, recomputed);
  }
  if (kept > budgetBytes) {
    // Nothing frees more: everything from the chunk's inputs is the least it can keep.
    recomputed.clear();
    recomputed.insert(chunk.forwardOps.begin(), chunk.forwardOps.end());
    fits = keptBytes(chunk, recomputed) <= budgetBytes;
  }
  return recomputed;
}
