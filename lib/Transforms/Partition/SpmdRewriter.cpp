//===- SpmdRewriter.cpp - rewriting a function into its per-rank form -----===//

#include "Partition/SpmdRewriter.h"

using namespace mlir;
using namespace mlir::parc;

/// split(d, g) -> replicated: gather the blocks; with groups, the gathered order is
/// [rank][group][block] and is put back into [group][rank][block].
Value SpmdRewriter::gather(Value value, RankedTensorType full, ShardingAttr from,
                           Location loc) {
  int64_t d = from.getDim(), groups = from.getGroups();
  Value gathered = AllGatherOp::create(builder, loc, full, value,
                                       builder.getI64IntegerAttr(d),
                                       builder.getStringAttr(axis));
  if (groups == 1)
    return gathered;
  ArrayRef<int64_t> shape = full.getShape();
  int64_t block = shape[d] / (groups * ranks);
  SmallVector<int64_t> split(shape.take_front(d));
  split.append({ranks, groups, block});
  llvm::append_range(split, shape.drop_front(d + 1));
  Type element = full.getElementType();
  Value viewed = ReshapeOp::create(builder, loc, RankedTensorType::get(split, element),
                                   gathered);
  SmallVector<int64_t> permutation;
  for (int64_t i = 0; i < static_cast<int64_t>(split.size()); ++i)
    permutation.push_back(i == d ? d + 1 : i == d + 1 ? d : i);
  SmallVector<int64_t> swapped(split);
  std::swap(swapped[d], swapped[d + 1]);
  Value reordered = TransposeOp::create(
      builder, loc, RankedTensorType::get(swapped, element), viewed,
      builder.getDenseI64ArrayAttr(permutation));
  return ReshapeOp::create(builder, loc, full, reordered);
}

Value SpmdRewriter::reshard(Value value, RankedTensorType full, ShardingAttr from,
                            ShardingAttr to, Location loc) {
  StringAttr group = builder.getStringAttr(axis);
  if (from.isPartial() && to.isSplit() && to.getGroups() == 1)
    return ReduceScatterOp::create(builder, loc, localType(full, to), value,
                                   builder.getI64IntegerAttr(to.getDim()), group);
  Value whole = value;
  if (from.isPartial())
    whole = AllReduceOp::create(builder, loc, full, value, group);
  else if (from.isSplit())
    whole = gather(value, full, from, loc);
  if (to.isReplicated())
    return whole;
  return ShardSliceOp::create(builder, loc, localType(full, to), whole,
                              builder.getI64IntegerAttr(to.getDim()),
                              builder.getI64IntegerAttr(to.getGroups()), group);
}

/// A slice of a split dim takes whole groups: its local bounds are the same groups' blocks.
void SpmdRewriter::localizeSlice(SliceOp slice, RankedTensorType fullInput,
                                 ShardingAttr layout) {
  if (!layout.isSplit())
    return;
  int64_t d = layout.getDim(), groups = layout.getGroups();
  int64_t size = fullInput.getDimSize(d);
  int64_t groupSize = size / groups, localGroupSize = groupSize / ranks;
  SmallVector<int64_t> starts(slice.getStartIndices());
  SmallVector<int64_t> limits(slice.getLimitIndices());
  starts[d] = starts[d] / groupSize * localGroupSize;
  limits[d] = limits[d] / groupSize * localGroupSize;
  slice.setStartIndices(starts);
  slice.setLimitIndices(limits);
}

void SpmdRewriter::run() {
  for (BlockArgument argument : function.getArguments())
    fullTypes[argument] = cast<RankedTensorType>(argument.getType());
  for (Operation &op : llvm::make_early_inc_range(function.front())) {
    auto reshards = program.reshards.find(&op);
    SmallVector<ShardingAttr> layouts;
    for (auto [i, operand] : llvm::enumerate(op.getOperands())) {
      ShardingAttr given = layoutOf(operand);
      ShardingAttr needed =
          reshards != program.reshards.end() ? reshards->second[i] : given;
      layouts.push_back(needed);
      if (needed == given)
        continue;
      // One collective serves every later op that needs the same value in the same layout
      // (it runs before the first of them, so it dominates the rest).
      Value &resharded = reshardCache[{operand, needed}];
      if (!resharded) {
        builder.setInsertionPoint(&op);
        RankedTensorType full = fullTypes.lookup(operand);
        resharded = reshard(operand, full, given, needed, op.getLoc());
        fullTypes[resharded] = full;
      }
      op.setOperand(i, resharded);
    }
    if (auto slice = dyn_cast<SliceOp>(op))
      localizeSlice(slice, fullTypes.lookup(slice.getInput()), layouts.front());
    if (auto gather = dyn_cast<GatherOp>(op);
        gather && layouts.front().isSplit() &&
        layouts.front().getDim() == gather.getAxis()) {
      // A vocabulary-parallel lookup: this rank's rows, zeros elsewhere.
      builder.setInsertionPoint(gather);
      auto sharded = ShardGatherOp::create(
          builder, gather.getLoc(), gather.getType(), gather.getInput(),
          gather.getIndices(), gather.getAxisAttr(), builder.getStringAttr(axis));
      fullTypes[sharded.getResult()] = gather.getType();
      replacements[sharded.getResult()] = program.of(gather.getResult(), context);
      gather.replaceAllUsesWith(sharded.getResult());
      gather.erase();
      continue; // partial: the result keeps the whole shape
    }
    for (Value result : op.getResults()) {
      auto full = cast<RankedTensorType>(result.getType());
      fullTypes[result] = full;
      result.setType(localType(full, program.of(result, context)));
    }
  }
  recordLayouts();
}

/// Marks every value that is not replicated over the tensor-parallel axis with its layout,
/// for passes after the partition (the backward pass needs to know which gradients are
/// partial sums).
void SpmdRewriter::recordLayouts() {
  if (axis != "tp")
    return;
  for (Operation &op : function.front()) {
    // A loaded weight's layout is its `sharding`.
    if (op.getNumResults() != 1 || isa<LoadWeightOp>(op))
      continue;
    ShardingAttr layout = layoutOf(op.getResult(0));
    if (auto scatter = dyn_cast<ReduceScatterOp>(op))
      layout = ShardingAttr::getSplit(context, scatter.getAxis(), 1);
    else if (auto slice = dyn_cast<ShardSliceOp>(op))
      layout = ShardingAttr::getSplit(context, slice.getAxis(), slice.getGroups());
    else if (isa<ShardGatherOp>(op))
      layout = ShardingAttr::getPartial(context);
    else if (isa<AllReduceOp, AllGatherOp>(op) || !program.values.count(op.getResult(0)))
      layout = ShardingAttr::getReplicated(context); // collectives and what follows them
    if (!layout.isReplicated())
      op.setAttr(kTensorParallelLayoutAttr, layout);
  }
}
