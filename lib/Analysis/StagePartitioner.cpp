//===- StagePartitioner.cpp - cutting a program into pipeline stages ------===//

#include "parc/Analysis/StagePartitioner.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::parc;

namespace {

constexpr double kFlopsPerSecond = 50e9;
constexpr double kMemoryBytesPerSecond = 20e9;

double bytesOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return 0;
  unsigned bits = type.getElementType().getIntOrFloatBitWidth();
  return double(type.getNumElements()) * (bits == 1 ? 1 : bits / 8);
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

/// Greedy fill: the fewest stages whose loads stay within `limit`, and where they start.
std::vector<size_t> fill(const std::vector<double> &cost, double limit) {
  std::vector<size_t> starts{0};
  double load = 0;
  for (size_t i = 0; i < cost.size(); ++i) {
    if (load + cost[i] > limit && load > 0) {
      starts.push_back(i);
      load = 0;
    }
    load += cost[i];
  }
  return starts;
}

} // namespace

FailureOr<StagePartition> mlir::parc::partitionStages(func::FuncOp function,
                                                      int64_t stages) {
  std::vector<Operation *> ops;
  std::vector<double> cost;
  for (Operation &op : function.front()) {
    ops.push_back(&op);
    cost.push_back(secondsOf(&op));
  }
  int64_t working = llvm::count_if(cost, [](double c) { return c > 0; });
  if (stages < 1 || working < stages)
    return function.emitError("cannot cut ")
           << working << " ops with work into " << stages << " pipeline stages";

  // The smallest feasible heaviest load, by bisection over the greedy fill.
  double total = 0, largest = 0;
  for (double c : cost) {
    total += c;
    largest = std::max(largest, c);
  }
  double low = std::max(largest, total / stages), high = total;
  for (int iteration = 0; iteration < 60; ++iteration) {
    double middle = (low + high) / 2;
    if (static_cast<int64_t>(fill(cost, middle).size()) <= stages)
      high = middle;
    else
      low = middle;
  }
  std::vector<size_t> starts = fill(cost, high);
  // Fewer stages than asked (very uneven ops): split the longest ones further.
  while (static_cast<int64_t>(starts.size()) < stages) {
    size_t best = 0, bestLength = 0;
    for (size_t s = 0; s < starts.size(); ++s) {
      size_t end = s + 1 < starts.size() ? starts[s + 1] : ops.size();
      if (end - starts[s] > bestLength) {
        bestLength = end - starts[s];
        best = s;
      }
    }
    starts.insert(starts.begin() + best + 1, starts[best] + bestLength / 2);
  }

  StagePartition partition;
  partition.stageOfOp.assign(ops.size(), 0);
  partition.stageSeconds.assign(stages, 0);
  partition.incomingBytes.assign(stages, 0);
  llvm::DenseMap<Operation *, int64_t> stageOf;
  for (int64_t s = 0; s < stages; ++s) {
    size_t end = s + 1 < stages ? starts[s + 1] : ops.size();
    for (size_t i = starts[s]; i < end; ++i) {
      partition.stageOfOp[i] = s;
      partition.stageSeconds[s] += cost[i];
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
  return partition;
}
