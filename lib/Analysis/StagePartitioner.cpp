//===- StagePartitioner.cpp - cutting a program into pipeline stages ------===//

#include "parc/Analysis/StagePartitioner.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
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

/// Modelled seconds of one op: its arithmetic and the bytes it writes (its
/// CostOpInterface; weights and literals cost nothing).
double secondsOf(Operation *op) {
  if (op->getNumResults() != 1)
    return 0;
  OpCost cost = getOpCost(op);
  return cost.flops / kFlopsPerSecond + cost.bytesWritten / kMemoryBytesPerSecond;
}

/// What one op loads its stage with: modelled seconds and the weights it reads (index,
/// bytes).
struct OpLoad {
  double seconds = 0;
  SmallVector<std::pair<int64_t, double>> weights;
};

/// Greedy fill: the fewest stages whose loads stay within `limit` and whose weights within
/// `memoryLimit` (0: none), and where they start; nothing when one op alone needs more
/// weight memory than the limit.
std::optional<std::vector<size_t>> fill(const std::vector<OpLoad> &cost, double limit,
                                        double memoryLimit) {
  std::vector<size_t> starts{0};
  double load = 0, memory = 0;
  llvm::SmallDenseSet<int64_t> held;
  auto newBytes = [&](const OpLoad &op) {
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

/// The bytes of the values live across a cut before each op (index i: between ops i-1 and
/// i; index n: after the last): produced before the cut and read by an op at or after it.
/// Weights, literals and the function's arguments are never sent (every stage loads or
/// reads them itself) and do not count.
std::vector<double> liveBytesAtCuts(ArrayRef<Operation *> ops) {
  llvm::DenseMap<Operation *, size_t> position;
  for (auto [i, op] : llvm::enumerate(ops))
    position[op] = i;
  std::vector<double> change(ops.size() + 2, 0.0);
  auto add = [&](Value value, size_t firstCut) {
    size_t lastUse = 0;
    bool used = false;
    for (Operation *user : value.getUsers())
      if (auto it = position.find(user); it != position.end() && it->second >= firstCut) {
        lastUse = std::max(lastUse, it->second);
        used = true;
      }
    if (!used)
      return;
    change[firstCut] += bytesOf(value);
    change[lastUse + 1] -= bytesOf(value);
  };
  for (auto [i, op] : llvm::enumerate(ops))
    if (!isa<LoadWeightOp, ConstantOp>(op))
      for (Value result : op->getResults())
        add(result, i + 1);
  std::vector<double> live(ops.size() + 1, 0.0);
  double running = 0;
  for (size_t i = 0; i <= ops.size(); ++i)
    live[i] = running += change[i];
  return live;
}

/// Among the cuts into `stages` stages (each with an op with work, within the memory
/// limit), the one whose slowest stage is fastest when a stage's time is its load plus
/// receiving what is live across its first cut; ties go to fewer bytes sent. This moves a
/// cut off a point where several values are live (inside an attention block: the residual
/// and q, k, v) to one where only the residual stream is (between layers), unless that
/// costs more balance than the transfer saves. A dynamic program over cut positions;
/// stages heavier than `bound` (the greedy fill's answer, which is feasible) are skipped.
///
/// Positions separated only by ops without work or weights (weight loads, reshapes) split
/// the loads and the weights alike, so of each such run only the one with the fewest live
/// bytes is a candidate: the others can only cost more. That keeps the program to the ops
/// with work, a fraction of all.
std::vector<size_t> cutsWithTransfers(const std::vector<OpLoad> &cost,
                                      const std::vector<double> &live, int64_t stages,
                                      double memoryLimit, double bound,
                                      double linkBytesPerSecond) {
  size_t n = cost.size();
  // The candidate positions, ascending, from 0 to n.
  std::vector<size_t> cuts;
  cuts.reserve(n + 1);
  cuts.push_back(0);
  for (size_t i = 1; i < n; ++i) {
    const OpLoad &before = cost[i - 1];
    bool sameAsLast = cuts.back() != 0 && before.seconds == 0 && before.weights.empty();
    if (!sameAsLast)
      cuts.push_back(i);
    else if (live[i] < live[cuts.back()])
      cuts.back() = i;
  }
  cuts.push_back(n);
  size_t m = cuts.size();
  // The load between each candidate and the one before it, and the ops with work before
  // each. Stage loads are summed from these in order rather than taken as differences of
  // running totals, so that equal stages weigh exactly the same and ties go to the bytes.
  std::vector<double> loadSince(m, 0);
  std::vector<double> rest(m, 0);
  std::vector<int64_t> workingBefore(m, 0);
  for (size_t c = 1; c < m; ++c) {
    workingBefore[c] = workingBefore[c - 1];
    for (size_t i = cuts[c - 1]; i < cuts[c]; ++i) {
      loadSince[c] += cost[i].seconds;
      workingBefore[c] += cost[i].seconds > 0;
    }
  }
  for (size_t c = m - 1; c > 0; --c)
    rest[c - 1] = rest[c] + loadSince[c];
  struct Best {
    double seconds = std::numeric_limits<double>::infinity();
    double bytes = 0;
  };
  auto better = [](double seconds, double bytes, const Best &than) {
    if (seconds != than.seconds)
      return seconds < than.seconds;
    return bytes < than.bytes;
  };
  // The stages that can start at each candidate a, whatever comes before: they end at a
  // candidate in [firstEnd[a], lastEnd[a]), from the first with an op with work to the last
  // whose load plus receive stays within `bound` (a stage over it cannot be part of a cut
  // at least as good as the fill's) and whose weights within the memory limit.
  auto receive = [&](size_t a) { return a > 0 ? live[cuts[a]] / linkBytesPerSecond : 0; };
  std::vector<size_t> firstEnd(m, m), lastEnd(m, 0);
  for (size_t a = 0; a + 1 < m; ++a) {
    double load = 0, memory = 0;
    llvm::SmallDenseSet<int64_t> held;
    size_t b = a + 1;
    for (; b < m; ++b) {
      load += loadSince[b];
      if (memoryLimit > 0) // the weights held matter only under a limit
        for (size_t i = cuts[b - 1]; i < cuts[b]; ++i)
          for (auto [weight, size] : cost[i].weights)
            if (held.insert(weight).second)
              memory += size;
      if (load + receive(a) > bound || (memoryLimit > 0 && memory > memoryLimit))
        break;
      if (firstEnd[a] == m && workingBefore[b] != workingBefore[a])
        firstEnd[a] = b;
    }
    lastEnd[a] = b;
  }
  // previous[c], current[c]: the ops before candidate c cut into k - 1 and k stages;
  // from[k][c]: where the k-th of those stages starts.
  std::vector<Best> previous(m), current(m);
  std::vector<std::vector<uint32_t>> from(stages + 1, std::vector<uint32_t>(m, 0));
  previous[0].seconds = 0;
  for (int64_t k = 1; k <= stages; ++k) {
    std::fill(current.begin(), current.end(), Best());
    for (size_t a = 0; a + 1 < m; ++a) {
      const Best &before = previous[a];
      if (std::isinf(before.seconds) || (k == 1) != (a == 0))
        continue;
      // The stages left cannot carry more than `bound` each.
      if (rest[a] > (stages - k + 1) * bound)
        continue;
      double bytes = before.bytes + (a > 0 ? live[cuts[a]] : 0);
      // The loads of the candidates before firstEnd[a] are zero: summing from there gives
      // the same load, exactly.
      double load = 0, received = receive(a);
      for (size_t b = firstEnd[a]; b < lastEnd[a]; ++b) {
        load += loadSince[b];
        double seconds = std::max(before.seconds, load + received);
        if (better(seconds, bytes, current[b])) {
          current[b] = {seconds, bytes};
          from[k][b] = a;
        }
      }
    }
    std::swap(previous, current);
  }
  if (std::isinf(previous[m - 1].seconds))
    return {};
  std::vector<size_t> starts(stages);
  size_t end = m - 1;
  for (int64_t k = stages; k >= 1; --k) {
    end = from[k][end];
    starts[k - 1] = cuts[end];
  }
  return starts;
}

} // namespace

double mlir::parc::modelledSeconds(Operation *op) { return secondsOf(op); }

double mlir::parc::modelledTransferSeconds(double bytes) {
  return bytes / StageCostModel().linkBytesPerSecond;
}

FailureOr<StagePartition> mlir::parc::partitionStages(func::FuncOp function,
                                                      int64_t stages,
                                                      double memoryLimitBytes,
                                                      llvm::function_ref<bool(Operation *)> include,
                                                      bool weighTransfers,
                                                      const StageCostModel &model) {
  std::vector<Operation *> ops;
  std::vector<OpLoad> cost;
  llvm::DenseMap<Operation *, int64_t> weightIndex;
  // An op left out of the cut that an included op reads (a weight's transpose) runs where
  // it is read: its work and the weights it reads are charged to its first included user.
  llvm::DenseSet<Operation *> charged;
  std::function<void(Value, OpLoad &)> charge = [&](Value operand, OpLoad &c) {
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
    c.seconds += model.opSeconds(def);
    for (Value next : def->getOperands())
      charge(next, c);
  };
  for (Operation &op : function.front()) {
    if (include && !include(&op))
      continue;
    ops.push_back(&op);
    OpLoad &c = cost.emplace_back();
    c.seconds = model.opSeconds(&op);
    for (Value operand : op.getOperands())
      charge(operand, c);
  }
  int64_t working = llvm::count_if(cost, [](const OpLoad &c) { return c.seconds > 0; });
  if (stages < 1 || working < stages)
    return function.emitError("cannot cut ")
           << working << " ops with work into " << stages << " pipeline stages";

  // The smallest feasible heaviest load, by bisection over the greedy fill.
  double total = 0, largest = 0;
  for (const OpLoad &c : cost) {
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
  // The fill cuts each stage as late as its load allows; move the cuts to where fewer bytes
  // cross, where that does not slow the slowest stage (counting its receive time).
  if (weighTransfers) {
    std::vector<double> live = liveBytesAtCuts(ops);
    // No stage of a better cut is heavier than the fill's slowest stage with its receive
    // (the fill's cut is one of those the program weighs).
    double bound = 0;
    for (size_t s = 0; s < starts.size(); ++s) {
      double load = 0;
      for (size_t i = starts[s]; i < segmentEnd(s); ++i)
        load += cost[i].seconds;
      double receive = starts[s] > 0 ? live[starts[s]] / model.linkBytesPerSecond : 0;
      bound = std::max(bound, load + receive);
    }
    bound *= 1 + 1e-12; // the fill's own cut stays within it despite rounding
    std::vector<size_t> moved = cutsWithTransfers(cost, live, stages, memoryLimitBytes, bound,
                                                  model.linkBytesPerSecond);
    if (!moved.empty())
      starts = std::move(moved);
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
  // inputs are given to every stage.
  auto countCrossings = [&](Value value, int64_t producer) {
    llvm::SmallDenseSet<int64_t> receivers;
    for (Operation *user : value.getUsers())
      if (stageOf.lookup(user) > producer)
        receivers.insert(stageOf.lookup(user));
    for (int64_t s : receivers)
      partition.incomingBytes[s] += bytesOf(value);
  };
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
