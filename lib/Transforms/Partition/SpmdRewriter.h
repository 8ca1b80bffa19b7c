//===- SpmdRewriter.h - rewriting a function into its per-rank form -*- C++ -*-===//
//
// Given the layouts propagated through a function over the ranks of one mesh axis, rewrites
// it into what each rank runs: results get their local types, operands whose layout must
// change get a reshard (an all-reduce, all-gather, reduce-scatter or a local shard_slice over
// the axis), slices of split dims take their local bounds, and lookups into a table split
// along the gathered axis become shard_gather. Used by tensor parallelism (axis "tp") and by
// the microbatch split (axis "microbatch", where only local slices are allowed).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TRANSFORMS_PARTITION_SPMDREWRITER_H
#define PARC_LIB_TRANSFORMS_PARTITION_SPMDREWRITER_H

#include "parc/Analysis/ShardingPropagation.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {

class SpmdRewriter {
public:
  SpmdRewriter(func::FuncOp function, const ProgramLayout &program, int64_t ranks,
               StringRef axis)
      : function(function), program(program), ranks(ranks), axis(axis.str()),
        context(function.getContext()), builder(function.getContext()) {}

  /// Rewrites the body; function arguments keep their types.
  void run();

  /// The type one rank holds of a value of type `full` laid out as `layout`.
  RankedTensorType localType(RankedTensorType full, ShardingAttr layout) const {
    return RankedTensorType::get(layout.getLocalShape(full.getShape(), ranks),
                                 full.getElementType());
  }

private:
  /// Brings `value` (whole type `full`, laid out as `from`) into layout `to`.
  Value reshard(Value value, RankedTensorType full, ShardingAttr from,
                ShardingAttr to, Location loc);
  Value gather(Value value, RankedTensorType full, ShardingAttr from, Location loc);
  void localizeSlice(SliceOp slice, RankedTensorType fullInput, ShardingAttr layout);
  void recordLayouts();
  /// The layout of a value, also of values the rewrite put in place of planned ones.
  ShardingAttr layoutOf(Value value) {
    auto it = replacements.find(value);
    return it != replacements.end() ? it->second : program.of(value, context);
  }

  func::FuncOp function;
  const ProgramLayout &program;
  int64_t ranks;
  std::string axis;
  MLIRContext *context;
  OpBuilder builder;
  llvm::DenseMap<Value, RankedTensorType> fullTypes;
  llvm::DenseMap<Value, ShardingAttr> replacements;
  llvm::DenseMap<std::pair<Value, Attribute>, Value> reshardCache;
};

} // namespace mlir::parc

#endif // PARC_LIB_TRANSFORMS_PARTITION_SPMDREWRITER_H
