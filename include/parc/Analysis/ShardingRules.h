//===- ShardingRules.h - how each op runs on sharded operands ---*- C++ -*-===//
//
// The per-op rules of tensor parallelism: given how an op's operands are laid out over the
// ranks of the tensor-parallel axis, decide the layout the op computes locally and which
// operands must change layout first (a reshard: partial -> replicated is an all-reduce,
// split -> replicated an all-gather, replicated -> split a free local slice). The planner
// evaluates candidate weight shardings with these rules; the SPMD rewrite materializes them.
//
// The rules reason about what an op computes (which dims a matmul contracts, which dims a
// reshape merges or splits, which slices take whole groups), never about names.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_SHARDINGRULES_H
#define PARC_ANALYSIS_SHARDINGRULES_H

#include "parc/Dialect/Parc/IR/ParcOps.h"

namespace mlir::parc {

/// How one op runs: the layout each operand must have (the given one, or a reshard of it)
/// and the layout of its result.
struct ShardingDecision {
  SmallVector<ShardingAttr> operands;
  ShardingAttr result;
};

/// Decides how `op` runs over `ranks` ranks when its operands have the layouts `operands`.
/// Never fails: when nothing better is local, every operand becomes replicated.
ShardingDecision decideSharding(Operation *op, ArrayRef<ShardingAttr> operands,
                                int64_t ranks);

/// True when a tensor of `type` can be laid out as `sharding` over `ranks` ranks (the split
/// dim divides evenly into groups x ranks blocks).
bool isShardable(RankedTensorType type, ShardingAttr sharding, int64_t ranks);

} // namespace mlir::parc

#endif // PARC_ANALYSIS_SHARDINGRULES_H
