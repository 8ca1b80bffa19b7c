//===- ShardingPropagation.h - layouts of a whole program -------*- C++ -*-===//
//
// Applies the per-op sharding rules to a whole function in program order, for a given
// layout of each weight: the layout of every value, and the reshards each op needs.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_SHARDINGPROPAGATION_H
#define PARC_ANALYSIS_SHARDINGPROPAGATION_H

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Dialect/Parc/IR/ShardingRules.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::parc {

/// The layouts the rules derive for one function.
struct ProgramLayout {
  /// The layout of every value (replicated when absent).
  llvm::DenseMap<Value, ShardingAttr> values;
  /// For ops that need operands in another layout first: the layouts they need.
  llvm::DenseMap<Operation *, SmallVector<ShardingAttr>> reshards;
  /// Ops with no sharding rule (of another dialect): treated as replicated here; the
  /// passes that partition refuse them.
  SmallVector<Operation *> withoutRule;

  ShardingAttr of(Value value, MLIRContext *context) const {
    ShardingAttr sharding = values.lookup(value);
    return sharding ? sharding : ShardingAttr::getReplicated(context);
  }
};

/// The `@main` of `module` and its number of tensor-parallel ranks (`parc.mesh`, 1 without
/// one); a null function when the module has no `@main` body.
std::pair<func::FuncOp, int64_t> getTensorParallelMain(ModuleOp module);

/// The layouts planned for the weights of `module` (their `parc.plan`), by weight name.
llvm::StringMap<ShardingAttr> getPlannedWeightLayouts(ModuleOp module);

/// Propagates layouts through `function` over `ranks` ranks; `weights` maps weight names to
/// their layout (replicated when absent), `arguments` gives the function arguments' layouts
/// (all replicated when empty). With `replicatedResults`, the function's results must be
/// replicated (a reshard before the return); otherwise they keep the layout they have.
ProgramLayout propagateLayouts(func::FuncOp function,
                               const llvm::StringMap<ShardingAttr> &weights,
                               int64_t ranks, ArrayRef<ShardingAttr> arguments = {},
                               bool replicatedResults = true);

/// An error at each op of `program` that has no sharding rule (nothing is partitioned
/// silently as replicated); success when there is none.
LogicalResult refuseOpsWithoutRule(const ProgramLayout &program);

} // namespace mlir::parc

#endif // PARC_ANALYSIS_SHARDINGPROPAGATION_H
