//===- TensorParallelPlanner.cpp - choosing weight layouts ----------------===//

#include "parc/Analysis/TensorParallelPlanner.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::parc;

static RankedTensorType typeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

double mlir::parc::reshardBytes(ShardingAttr from, ShardingAttr to, double bytes,
                                int64_t ranks) {
  if (from == to || to.isPartial())
    return 0;
  double share = double(ranks - 1) / double(ranks) * bytes;
  if (from.isPartial())
    return to.isReplicated() ? 2 * share : share; // all-reduce / reduce-scatter
  if (from.isReplicated())
    return 0; // a local slice
  return share; // all-gather (and a local slice for another split)
}

/// Floating-point operations of an op over the whole tensors (its CostOpInterface).
static double flopsOf(Operation *op) {
  return op->getNumResults() == 1 ? getOpCost(op).flops : 0.0;
}

TensorParallelPlan mlir::parc::evaluatePlan(func::FuncOp function,
                                            const llvm::StringMap<ShardingAttr> &weights,
                                            const TensorParallelCostModel &model) {
  MLIRContext *context = function.getContext();
  ProgramLayout program = propagateLayouts(function, weights, model.ranks);
  TensorParallelPlan plan;
  plan.weights = weights;
  double commSeconds = 0, computeSeconds = 0;
  llvm::DenseSet<std::pair<Value, Attribute>> counted;
  for (Operation &op : function.front()) {
    auto reshard = program.reshards.find(&op);
    bool splitWork = false;
    for (auto [i, operand] : llvm::enumerate(op.getOperands())) {
      ShardingAttr given = program.of(operand, context);
      ShardingAttr needed =
          reshard != program.reshards.end() ? reshard->second[i] : given;
      splitWork |= !needed.isReplicated();
      if (needed == given || !counted.insert({operand, needed}).second)
        continue;
      double bytes = reshardBytes(given, needed, double(getStorageBytes(typeOf(operand))), model.ranks);
      if (bytes == 0)
        continue;
      commSeconds += bytes / model.bytesPerSecond + model.latencySeconds;
      plan.collectives.push_back({&op, operand, given, needed, bytes});
    }
    if (op.getNumResults() == 1 && !isa<LoadWeightOp, ConstantOp>(op)) {
      splitWork |= !program.of(op.getResult(0), context).isReplicated();
      if (splitWork)
        plan.splitWork.insert(&op);
      computeSeconds += flopsOf(&op) / (splitWork ? model.ranks : 1) /
                        model.flopsPerSecond;
    }
  }
  llvm::StringSet<> seen;
  for (auto load : function.getOps<LoadWeightOp>()) {
    if (!seen.insert(load.getName()).second)
      continue;
    auto it = weights.find(load.getName());
    bool split = it != weights.end() && it->second && it->second.isSplit();
    plan.weightBytesPerRank += double(getStorageBytes(load.getType())) / (split ? model.ranks : 1);
  }
  plan.seconds = commSeconds + computeSeconds;
  return plan;
}

/// Group counts the program cuts dims into: a slice taking 1/g of a dim suggests g.
static llvm::SmallSet<int64_t, 4> candidateGroups(func::FuncOp function) {
  llvm::SmallSet<int64_t, 4> groups;
  function.walk([&](SliceOp slice) {
    ArrayRef<int64_t> shape = typeOf(slice.getInput()).getShape();
    for (auto [d, size] : llvm::enumerate(shape)) {
      int64_t taken = slice.getLimitIndices()[d] - slice.getStartIndices()[d];
      if (slice.getStrides()[d] == 1 && taken > 0 && taken < size && size % taken == 0)
        groups.insert(size / taken);
    }
  });
  return groups;
}

TensorParallelPlan mlir::parc::planTensorParallel(func::FuncOp function,
                                                  const TensorParallelCostModel &model) {
  MLIRContext *context = function.getContext();
  llvm::SetVector<StringRef> names;
  llvm::StringMap<RankedTensorType> types;
  for (auto load : function.getOps<LoadWeightOp>()) {
    names.insert(load.getName());
    types[load.getName()] = load.getType();
  }
  // The largest weights decide the structure of the plan; small ones (biases, norm scales)
  // then follow it. Ties keep program order.
  SmallVector<StringRef> order(names.begin(), names.end());
  llvm::stable_sort(order, [&](StringRef a, StringRef b) {
    return types[a].getNumElements() > types[b].getNumElements();
  });
  llvm::SmallSet<int64_t, 4> groups = candidateGroups(function);
  auto candidates = [&](RankedTensorType type) {
    SmallVector<ShardingAttr> result{ShardingAttr::getReplicated(context)};
    if (!isa<FloatType>(type.getElementType()))
      return result;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (type.getDimSize(d) % model.ranks == 0)
        result.push_back(ShardingAttr::getSplit(context, d));
      if (d == type.getRank() - 1)
        for (int64_t g : groups)
          if (g > 1 && type.getDimSize(d) % (g * model.ranks) == 0)
            result.push_back(ShardingAttr::getSplit(context, d, g));
    }
    return result;
  };
  auto score = [&](const TensorParallelPlan &plan) {
    return plan.seconds +
           model.memoryWeight * plan.weightBytesPerRank / model.bytesPerSecond;
  };

  llvm::StringMap<ShardingAttr> weights;
  TensorParallelPlan best = evaluatePlan(function, weights, model);
  for (int sweep = 0; sweep < 4; ++sweep) {
    bool changed = false;
    for (StringRef name : order) {
      ShardingAttr current = weights.lookup(name);
      for (ShardingAttr candidate : candidates(types[name])) {
        if (candidate == current || (!current && candidate.isReplicated()))
          continue;
        weights[name] = candidate;
        TensorParallelPlan plan = evaluatePlan(function, weights, model);
        if (score(plan) < score(best) * (1 - 1e-9)) {
          best = std::move(plan);
          current = candidate;
          changed = true;
        }
      }
      if (current)
        weights[name] = current;
      else
        weights.erase(name);
    }
    if (!changed)
      break;
  }
  best.weights = weights;
  return best;
}
