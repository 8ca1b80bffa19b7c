//===- Recompute.cpp - which activations a backward step recomputes -------===//

#include "Training/Recompute.h"

#include "parc/Analysis/MemoryModel.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "llvm/ADT/SetVector.h"
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

/// The values one microbatch keeps from its forward step to its backward step: those a
/// backward op reads, and the inputs of the recomputed ops, unless free or recomputed.
static llvm::DenseSet<Value> keptValues(const ChunkActivations &chunk,
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
  return kept;
}

double mlir::parc::keptBytes(const ChunkActivations &chunk,
                             const llvm::DenseSet<Operation *> &recomputed) {
  double bytes = 0;
  for (Value value : keptValues(chunk, recomputed))
    bytes += bytesOf(value);
  return bytes;
}

RecomputeChoice mlir::parc::chooseRecomputed(const ChunkActivations &chunk,
                                             RecomputePolicy policy, double budgetBytes) {
  RecomputeChoice choice;
  llvm::DenseSet<Operation *> &recomputed = choice.ops;
  auto all = [&] {
    recomputed.insert(chunk.forwardOps.begin(), chunk.forwardOps.end());
    choice.keptBytes = keptBytes(chunk, recomputed);
    return choice;
  };
  switch (policy) {
  case RecomputePolicy::None:
    choice.keptBytes = keptBytes(chunk, recomputed);
    return choice;
  case RecomputePolicy::Full:
    return all();
  case RecomputePolicy::Selective:
    for (Operation *op : chunk.forwardOps)
      if (isAttentionScoreOp(op))
        recomputed.insert(op);
    choice.keptBytes = keptBytes(chunk, recomputed);
    return choice;
  case RecomputePolicy::Auto:
    break;
  }
  // Greedy: recompute the group of ops that frees the most kept bytes per FLOP, until the
  // chunk keeps within the budget. A kept value's group is its op and, back through its
  // operands, every op whose value nothing keeps yet (recomputing the op alone would keep
  // its inputs instead: a GELU's tanh needs the product before it, and so on back to the
  // GEMM output that is kept anyway).
  llvm::DenseSet<Operation *> inChunk(chunk.forwardOps.begin(), chunk.forwardOps.end());
  llvm::DenseSet<Value> kept = keptValues(chunk, recomputed);
  choice.keptBytes = keptBytes(chunk, recomputed);
  auto groupOf = [&](Operation *op) {
    llvm::SetVector<Operation *> group;
    SmallVector<Operation *> work{op};
    while (!work.empty()) {
      Operation *next = work.pop_back_val();
      if (!group.insert(next))
        continue;
      for (Value operand : next->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (def && inChunk.contains(def) && !recomputed.contains(def) &&
            !kept.contains(operand))
          work.push_back(def);
      }
    }
    return group;
  };
  while (choice.keptBytes > budgetBytes) {
    llvm::SetVector<Operation *> best;
    double bestRatio = 0, bestKept = choice.keptBytes;
    for (Operation *op : chunk.forwardOps) {
      if (recomputed.contains(op) ||
          llvm::none_of(op->getResults(), [&](Value v) { return kept.contains(v); }))
        continue;
      llvm::SetVector<Operation *> group = groupOf(op);
      llvm::DenseSet<Operation *> trial = recomputed;
      double flops = 0;
      for (Operation *member : group) {
        trial.insert(member);
        flops += getOpCost(member).flops;
      }
      double trialKept = keptBytes(chunk, trial);
      double ratio = (choice.keptBytes - trialKept) / std::max(1.0, flops);
      if (trialKept < choice.keptBytes && ratio > bestRatio) {
        bestRatio = ratio;
        best = std::move(group);
        bestKept = trialKept;
      }
    }
    if (best.empty())
      break;
    recomputed.insert(best.begin(), best.end());
    kept = keptValues(chunk, recomputed);
    choice.keptBytes = bestKept;
  }
  if (choice.keptBytes <= budgetBytes)
    return choice;
  // Nothing frees more: everything from the chunk's inputs is the least it can keep.
  all();
  choice.fits = choice.keptBytes <= budgetBytes;
  return choice;
}
