//===- TensorParallelPlanner.h - choosing weight layouts --------*- C++ -*-===//
//
// Chooses how each weight is laid out over the tensor-parallel ranks by minimising a cost
// model of one forward pass: communication (reshards the sharding rules require, at their
// collective's volume), compute per rank, and per-rank weight memory. The search is
// coordinate descent over the weights: starting from everything replicated, each weight in
// turn takes the candidate layout (replicated, split along a dim that divides, or a grouped
// split along its last dim when the program slices that dim into equal groups) that lowers
// the cost of the whole program, re-evaluated by propagating layouts through it; sweeps
// repeat until nothing changes. No names or op patterns are consulted.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_TENSORPARALLELPLANNER_H
#define PARC_ANALYSIS_TENSORPARALLELPLANNER_H

#include "parc/Analysis/ShardingPropagation.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::parc {

/// The machine the cost model assumes (defaults: a CPU node; the ratios are what matter).
struct TensorParallelCostModel {
  int64_t ranks = 2;
  double flopsPerSecond = 50e9;
  double bytesPerSecond = 10e9;   // per-rank collective bandwidth
  /// Per collective. Small by default: plans are compared mostly by the volume they move,
  /// as in Megatron's analysis, so the plan a model gets barely depends on its size; the
  /// small charge prefers one all-reduce to a reduce-scatter + all-gather of equal volume.
  double latencySeconds = 1e-7;
  /// How many bytes of communication one byte of per-rank weight memory is worth.
  double memoryWeight = 2.0;
};

/// One reshard the plan needs: the value, its layout before and after, and its bytes moved.
struct PlannedCollective {
  Operation *user;
  Value value;
  ShardingAttr from, to;
  double bytes;
};

struct TensorParallelPlan {
  llvm::StringMap<ShardingAttr> weights;
  double seconds = 0;           // modelled time of one forward pass
  double weightBytesPerRank = 0;
  std::vector<PlannedCollective> collectives;
  /// The ops whose work the ranks share (1/ranks each); the others run whole on every rank.
  llvm::DenseSet<Operation *> splitWork;
};

/// Bytes per rank a reshard moves for a tensor of `bytes` over `ranks` ranks.
double reshardBytes(ShardingAttr from, ShardingAttr to, double bytes, int64_t ranks);

/// Evaluates the plan given by `weights` for `function`.
TensorParallelPlan evaluatePlan(func::FuncOp function,
                                const llvm::StringMap<ShardingAttr> &weights,
                                const TensorParallelCostModel &model);

/// Searches weight layouts for `function` (see the file comment).
TensorParallelPlan planTensorParallel(func::FuncOp function,
                                      const TensorParallelCostModel &model);

} // namespace mlir::parc

#endif // PARC_ANALYSIS_TENSORPARALLELPLANNER_H
