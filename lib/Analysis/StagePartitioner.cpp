//===- StagePartitioner.cpp - cutting a program into pipeline stages ------===//

#include "parc/Analysis/StagePartitioner.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <cassert>
#include <functional>
#include <optional>

using namespace mlir;
using namespace mlir::parc;

namespace {

constexpr double kFlopsPerSecond = 50e9;
constexpr double kMemoryBytesPerSecond = 20e9;

double bytesOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type ? double(getStorageBytes(type)) : 0;
}

/// Modelled seconds of one op: its arithmetic and the bytes it writes.
double secondsOf(Operation *op) {
  if (isa<LoadWeightOp, ConstantOp, func::ReturnOp>(op) || op->getNumResults() != 1)
    return 0;
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  double flops = double(result.getNumElements());
  if (auto matmul = dyn_cast<MatMulOp>(op))
    flops *= 2.0 * cast<RankedTensorType>(matmul.getLhs().getType()).getShape().back();
  return flops / kFlopsPerSecond + bytesOf(op->getResult(0)) / kMemoryBytesPerSecond;
}

/// What one op costs: modelled seconds and the weights it reads (index, bytes).
struct OpCost {
  double seconds = 0;
  SmallVector<std::pair<int64_t, double>> weights;
};

/// Greedy fill: the fewest stages whose loads stay within `limit` and whose weights within
/// `memoryLimit` (0: none), and where they start; nothing when one op alone needs more
/// weight memory than the limit.
std::optional<std::vector<size_t>> fill(const std::vector<OpCost> &cost, double limit,
                                        double memoryLimit) {
  std::vector<size_t> starts{0};
  double load = 0, memory = 0;
  llvm::SmallDenseSet<int64_t> held;
  auto newBytes = [&](const OpCost &op) {
    double bytes = 0;
    for (auto [weight, size] : op.weights)
      if (!held.contains(weight))
        bytes += size;
    return bytes;
  };
  for (size_t i = 0; i < cost.size(); ++i) {
    double extra = newBytes(cost[i]);
    bool tooSlow = load + cost[i].seconds > limit;
    bool tooBig = memoryLimit > 0 && memory + extra > memoryLimit;
    if ((tooSlow || tooBig) && (load > 0 || memory > 0)) {
      starts.push_back(i);
      load = memory = 0;
      held.clear();
      extra = newBytes(cost[i]);
    }
    if (memoryLimit > 0 && extra > memoryLimit)
      return std::nullopt;
    load += cost[i].seconds;
    memory += extra;
    for (auto [weight, size] : cost[i].weights)
      held.insert(weight);
  }
  return starts;
}

} // namespace

double mlir::parc::modelledSeconds(Operation *op) { return secondsOf(op); }

FailureOr<StagePartition> mlir::parc::partitionStages(func::FuncOp function,
                                                      int64_t stages,
                                                      double memoryLimitBytes,
                                                      llvm::function_ref<bool(Operation *)> include) {
  std::vector<Operation *> ops;
  std::vector<OpCost> cost;
  llvm::DenseMap<Operation *, int64_t> weightIndex;
  // An op left out of the cut that an included op reads (a weight's transpose) runs where
  // it is read: its work and the weights it reads are charged to its first included user.
  llvm::DenseSet<Operation *> charged;
  std::function<void(Value, OpCost &)> charge = [&](Value operand, OpCost &c) {
    Operation *def = operand.getDefiningOp();
    if (!def)
      return;
    if (auto load = dyn_cast<LoadWeightOp>(def)) {
      auto [it, inserted] = weightIndex.try_emplace(load, weightIndex.size());
      if (!llvm::is_contained(llvm::make_first_range(c.weights), it->second))
        c.weights.push_back({it->second, bytesOf(load.getResult())});
      return;
    }
    if (!include || include(def) || !charged.insert(def).second)
      return;
    c.seconds += secondsOf(def);
    for (Value next : def->getOperands())
      charge(next, c);
  };
  for (Operation &op : function.front()) {
    if (include && !include(&op))
      continue;
    ops.push_back(&op);
    OpCost &c = cost.emplace_back();
    c.seconds = secondsOf(&op);
    for (Value operand : op.getOperands())
      charge(operand, c);
  }
  int64_t working = llvm::count_if(cost, [](const OpCost &c) { return c.seconds > 0; });
  if (stages < 1 || working < stages)
    return function.emitError("cannot cut ")
           << working << " ops with work into " << stages << " pipeline stages";

  // The smallest feasible heaviest load, by bisection over the greedy fill.
  double total = 0, largest = 0;
  for (const OpCost &c : cost) {
    total += c.seconds;
    largest = std::max(largest, c.seconds);
  }
  auto feasible = [&](double limit) {
    std::optional<std::vector<size_t>> starts = fill(cost, limit, memoryLimitBytes);
    return starts && static_cast<int64_t>(starts->size()) <= stages;
  };
  if (!feasible(total))
    return function.emitError("the weights do not fit into ")
           << stages << " pipeline stages under the memory limit of "
           << static_cast<int64_t>(memoryLimitBytes) << " bytes per stage";
  double low = std::max(largest, total / stages), high = total;
  for (int iteration = 0; iteration < 60; ++iteration) {
    double middle = (low + high) / 2;
    if (feasible(middle))
      high = middle;
    else
      low = middle;
  }
  std::vector<size_t> starts = *fill(cost, high, memoryLimitBytes);
  // Fewer stages than asked (an op heavier than everything else): cut the heaviest stage
  // that has two ops with work where it is half done, until there are enough. Cuts only
  // lighten stages, so the heaviest stays what the fill achieved.
  auto segmentEnd = [&](size_t s) { return s + 1 < starts.size() ? starts[s + 1] : ops.size(); };
  while (static_cast<int64_t>(starts.size()) < stages) {
    std::optional<size_t> best;
    double bestLoad = -1;
    for (size_t s = 0; s < starts.size(); ++s) {
      double load = 0;
      int64_t working = 0;
      for (size_t i = starts[s]; i < segmentEnd(s); ++i) {
        load += cost[i].seconds;
        working += cost[i].seconds > 0;
      }
      if (working >= 2 && load > bestLoad) {
        bestLoad = load;
        best = s;
      }
    }
    assert(best && "fewer ops with work than stages was checked above");
    // The first op with work past half the load starts the new stage.
    double load = 0;
    size_t cut = starts[*best];
    bool seenWork = false;
    for (size_t i = starts[*best]; i < segmentEnd(*best); ++i) {
      if (cost[i].seconds > 0 && seenWork && load + cost[i].seconds / 2 > bestLoad / 2) {
        cut = i;
        break;
      }
      seenWork |= cost[i].seconds > 0;
      load += cost[i].seconds;
      cut = i;
    }
    starts.insert(starts.begin() + *best + 1, cut);
  }
  StagePartition partition;
  partition.stageOfOp.assign(ops.size(), 0);
  partition.stageSeconds.assign(stages, 0);
  partition.incomingBytes.assign(stages, 0);
  partition.weightBytes.assign(stages, 0);
  partition.opCount.assign(stages, 0);
  llvm::DenseMap<Operation *, int64_t> stageOf;
  for (int64_t s = 0; s < stages; ++s) {
    size_t end = s + 1 < stages ? starts[s + 1] : ops.size();
    for (size_t i = starts[s]; i < end; ++i) {
      partition.stageOfOp[i] = s;
      partition.stageSeconds[s] += cost[i].seconds;
      partition.opCount[s] += cost[i].seconds > 0;
    }
  }
  // Weights and literals go with their first user.
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!isa<LoadWeightOp, ConstantOp>(ops[i]))
      continue;
    int64_t first = stages - 1;
    for (Operation *user : ops[i]->getUsers())
      for (size_t j = i + 1; j < ops.size(); ++j)
        if (ops[j] == user)
          first = std::min(first, partition.stageOfOp[j]);
    partition.stageOfOp[i] = first;
  }
  for (size_t i = 0; i < ops.size(); ++i)
    stageOf[ops[i]] = partition.stageOfOp[i];
  // Each stage loads every weight its ops read.
  std::vector<llvm::SmallDenseSet<int64_t>> loaded(stages);
  for (size_t i = 0; i < ops.size(); ++i)
    for (auto [weight, bytes] : cost[i].weights)
      if (loaded[partition.stageOfOp[i]].insert(weight).second)
        partition.weightBytes[partition.stageOfOp[i]] += bytes;
  // A value crosses into every later stage that uses it (once per stage); the function's
  // inputs arrive at the first stage.
  auto countCrossings = [&](Value value, int64_t producer) {
    llvm::SmallDenseSet<int64_t> receivers;
    for (Operation *user : value.getUsers())
      if (stageOf.lookup(user) > producer)
        receivers.insert(stageOf.lookup(user));
    for (int64_t s : receivers)
      partition.incomingBytes[s] += bytesOf(value);
  };
  for (BlockArgument argument : function.getArguments())
    countCrossings(argument, 0);
  for (size_t i = 0; i < ops.size(); ++i)
    if (!isa<LoadWeightOp, ConstantOp>(ops[i]))
      for (Value result : ops[i]->getResults())
        countCrossings(result, partition.stageOfOp[i]);
  double heaviest = *std::max_element(partition.stageSeconds.begin(),
                                      partition.stageSeconds.end());
  partition.imbalance = heaviest / (total / stages);
  // Back to one entry per op of the body.
  std::vector<int64_t> bodyStages;
  for (Operation &op : function.front()) {
    auto it = stageOf.find(&op);
    bodyStages.push_back(it == stageOf.end() ? -1 : it->second);
  }
  partition.stageOfOp = std::move(bodyStages);
  return partition;
}
