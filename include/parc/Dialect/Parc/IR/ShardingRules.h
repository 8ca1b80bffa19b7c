//===- ShardingRules.h - how ops run on sharded operands --------*- C++ -*-===//
//
// The rules of tensor parallelism: given how an op's operands are laid out over the ranks
// of the tensor-parallel axis, the layout the op computes locally and which operands must
// change layout first (a reshard: partial -> replicated is an all-reduce, split ->
// replicated an all-gather, replicated -> split a free local slice). Each op carries its
// rule (ShardingOpInterface); the rules shared by op families are declared here and
// defined, with every single op's rule, in lib/Dialect/Parc/IR/ParcSharding.cpp. The
// planner evaluates candidate weight shardings with them; the SPMD rewrite materializes
// them.
//
// The rules reason about what an op computes (which dims a matmul contracts, which dims a
// reshape merges or splits, which slices take whole groups), never about names.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_SHARDINGRULES_H
#define PARC_DIALECT_PARC_IR_SHARDINGRULES_H

#include "parc/Dialect/Parc/IR/ParcInterfaces.h"

#include "mlir/IR/BuiltinTypes.h"

namespace mlir::parc {

/// How `op` runs over `ranks` ranks when its operands have the layouts `operands`: its
/// ShardingOpInterface rule, or every operand and the result replicated for an op that
/// declares ReplicatedSharding. std::nullopt for an op that declares neither (an op of
/// another dialect): there is no rule, and callers report it.
std::optional<ShardingDecision> decideSharding(Operation *op, ArrayRef<ShardingAttr> operands,
                                               int64_t ranks);

/// True when a tensor of `type` can be laid out as `sharding` over `ranks` ranks (the split
/// dim divides evenly into groups x ranks blocks).
bool isShardable(RankedTensorType type, ShardingAttr sharding, int64_t ranks);

/// Every operand and the result replicated.
ShardingDecision replicateEverything(Operation *op);

/// Elementwise ops with numpy broadcasting: the biggest split operand decides the layout;
/// replicated operands that span the split dim are sliced locally, broadcast ones stay.
/// With `partialsPass` (add, sub), all-partial operands give a partial result.
ShardingDecision decideElementwiseSharding(Operation *op, ArrayRef<ShardingAttr> operands,
                                           int64_t ranks, bool partialsPass);

/// Reductions over `axes`: a split dim that is not reduced stays split; `linear`
/// reductions (sum, mean) keep partial sums partial.
ShardingDecision decideReduceSharding(Operation *op, ArrayRef<ShardingAttr> operands,
                                      int64_t ranks, ArrayRef<int64_t> axes, bool keepDims,
                                      bool linear);

/// Ops that work along one axis of each row (softmax): a split of another dim stays.
ShardingDecision decideRowSharding(Operation *op, ArrayRef<ShardingAttr> operands,
                                   int64_t ranks, int64_t axis);

} // namespace mlir::parc

#endif // PARC_DIALECT_PARC_IR_SHARDINGRULES_H
