//===- ParcSharding.cpp - how each op runs on sharded operands ------------===//
//
// The ShardingOpInterface rules of the parc ops (ShardingRules.h): the rules op families
// share, and each single op's decideSharding. A split is written (dim, groups); every rule
// checks that the dim it keeps split still divides over the ranks.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ShardingRules.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;
using namespace mlir::parc;

bool mlir::parc::isShardable(RankedTensorType type, ShardingAttr sharding,
                             int64_t ranks) {
  if (!sharding || !sharding.isSplit())
    return true;
  int64_t dim = sharding.getDim();
  return dim < type.getRank() &&
         type.getDimSize(dim) % (sharding.getGroups() * ranks) == 0;
}

namespace {

RankedTensorType typeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Shared state of one decision.
class Rules {
public:
  Rules(Operation *op, ArrayRef<ShardingAttr> given, int64_t ranks)
      : op(op), ranks(ranks), context(op->getContext()),
        replicated(ShardingAttr::getReplicated(context)),
        partial(ShardingAttr::getPartial(context)) {
    for (ShardingAttr sharding : given)
      operands.push_back(sharding ? sharding : replicated);
  }

  ShardingDecision elementwise(bool partialPassesThrough);
  ShardingDecision matmul();
  ShardingDecision reduce(ArrayRef<int64_t> axes, bool keepDims, bool linear);
  ShardingDecision softmax(int64_t axis);
  ShardingDecision transpose(ArrayRef<int64_t> permutation);
  ShardingDecision reshape();
  ShardingDecision slice(SliceOp slice);
  ShardingDecision concat(int64_t axis);
  ShardingDecision gather(int64_t axis);
  ShardingDecision broadcast();
  ShardingDecision allReplicated() {
    return {SmallVector<ShardingAttr>(operands.size(), replicated), replicated};
  }

private:
  ShardingAttr split(int64_t dim, int64_t groups = 1) {
    return ShardingAttr::getSplit(context, dim, groups);
  }
  /// The decision that the op runs on `required` operand layouts producing `result`, or
  /// fully replicated when `result` is not a valid layout of the result type.
  ShardingDecision make(SmallVector<ShardingAttr> required, ShardingAttr result) {
    if (!isShardable(typeOf(op->getResult(0)), result, ranks))
      return allReplicated();
    for (auto [operand, sharding] : llvm::zip(op->getOperands(), required))
      if (!isShardable(typeOf(operand), sharding, ranks))
        return allReplicated();
    return {std::move(required), result};
  }
  /// Partial operands become replicated (an all-reduce).
  void resolvePartials() {
    for (ShardingAttr &sharding : operands)
      if (sharding.isPartial())
        sharding = replicated;
  }

  Operation *op;
  int64_t ranks;
  MLIRContext *context;
  ShardingAttr replicated, partial;
  SmallVector<ShardingAttr> operands;
};

/// Elementwise ops with numpy broadcasting: the biggest split operand decides the layout;
/// replicated operands that span the split dim are sliced locally, broadcast ones stay.
/// With `partialPassesThrough` (add, sub), all-partial operands give a partial result.
ShardingDecision Rules::elementwise(bool partialPassesThrough) {
  bool allPartial = llvm::all_of(operands, [](ShardingAttr s) { return s.isPartial(); });
  if (allPartial && partialPassesThrough)
    return {operands, partial};
  resolvePartials();
  auto resultType = typeOf(op->getResult(0));
  int64_t rank = resultType.getRank();
  // The split of the largest operand, in result dims.
  std::optional<std::pair<int64_t, int64_t>> chosen;
  int64_t chosenSize = -1;
  for (auto [value, sharding] : llvm::zip(op->getOperands(), operands)) {
    if (!sharding.isSplit())
      continue;
    int64_t offset = rank - typeOf(value).getRank();
    int64_t size = typeOf(value).getNumElements();
    if (size > chosenSize) {
      chosen = {sharding.getDim() + offset, sharding.getGroups()};
      chosenSize = size;
    }
  }
  if (!chosen)
    return {operands, replicated};
  auto [dim, groups] = *chosen;
  SmallVector<ShardingAttr> required;
  for (Value value : op->getOperands()) {
    auto type = typeOf(value);
    int64_t local = dim - (rank - type.getRank());
    if (local < 0 || type.getDimSize(local) == 1)
      required.push_back(replicated); // broadcast along the split dim
    else
      required.push_back(split(local, groups));
  }
  return make(std::move(required), split(dim, groups));
}

/// [..., m, k] x [..., k, n]: a split contraction dim gives partial sums (row-parallel), a
/// split n a split result (column-parallel), a split m or batch dim a split result.
ShardingDecision Rules::matmul() {
  resolvePartials();
  auto lhsType = typeOf(op->getOperand(0)), rhsType = typeOf(op->getOperand(1));
  int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
  int64_t rank = typeOf(op->getResult(0)).getRank();
  ShardingAttr lhs = operands[0], rhs = operands[1];
  // Contraction dim split on either side: partial sums.
  if ((lhs.isSplit() && lhs.getDim() == lhsRank - 1 && lhs.getGroups() == 1) ||
      (rhs.isSplit() && rhs.getDim() == rhsRank - 2 && rhs.getGroups() == 1))
    return make({split(lhsRank - 1), split(rhsRank - 2)}, partial);
  // Column-parallel: n split.
  if (rhs.isSplit() && rhs.getDim() == rhsRank - 1)
    return make({replicated, rhs}, split(rank - 1, rhs.getGroups()));
  // Row blocks: m split.
  if (lhs.isSplit() && lhs.getDim() == lhsRank - 2)
    return make({lhs, replicated}, split(rank - 2, lhs.getGroups()));
  // A batch dim split on either side: both sides split there unless broadcast.
  auto batchSplit = [&](ShardingAttr sharding, int64_t ownRank)
      -> std::optional<int64_t> {
    if (!sharding.isSplit() || sharding.getDim() >= ownRank - 2)
      return std::nullopt;
    return sharding.getDim() + (rank - ownRank);
  };
  std::optional<int64_t> batch = batchSplit(lhs, lhsRank);
  if (!batch)
    batch = batchSplit(rhs, rhsRank);
  if (batch) {
    auto sideLayout = [&](RankedTensorType type) {
      int64_t local = *batch - (rank - type.getRank());
      if (local < 0 || type.getDimSize(local) == 1)
        return replicated;
      return split(local);
    };
    return make({sideLayout(lhsType), sideLayout(rhsType)}, split(*batch));
  }
  return allReplicated();
}

ShardingDecision Rules::reduce(ArrayRef<int64_t> axes, bool keepDims,
                               bool linear) {
  ShardingAttr input = operands[0];
  if (input.isPartial())
    return linear ? ShardingDecision{operands, partial} : allReplicated();
  if (!input.isSplit() || llvm::is_contained(axes, input.getDim()))
    return allReplicated();
  int64_t dim = input.getDim();
  if (!keepDims)
    dim -= llvm::count_if(axes, [&](int64_t axis) { return axis < input.getDim(); });
  return make({input}, split(dim, input.getGroups()));
}

ShardingDecision Rules::softmax(int64_t axis) {
  resolvePartials();
  if (!operands[0].isSplit() || operands[0].getDim() == axis)
    return allReplicated();
  return make({operands[0]}, operands[0]);
}

ShardingDecision Rules::transpose(ArrayRef<int64_t> permutation) {
  ShardingAttr input = operands[0];
  if (!input.isSplit())
    return {operands, input};
  for (auto [i, p] : llvm::enumerate(permutation))
    if (p == input.getDim())
      return make({input}, split(i, input.getGroups()));
  return allReplicated();
}

/// A reshape keeps a split when the split dim's blocks stay contiguous blocks of one result
/// dim. In row-major order, the result dim e that holds the start of split dim d may also
/// hold P whole indices of the dims before d (then each becomes a group) and either all of
/// d (merged with later dims) or a leading factor f of it that still divides into the
/// blocks (cut). A leading factor made only of whole groups moves the split on to the next
/// result dim.
ShardingDecision Rules::reshape() {
  ShardingAttr input = operands[0];
  if (!input.isSplit())
    return {operands, input};
  ArrayRef<int64_t> in = typeOf(op->getOperand(0)).getShape();
  ArrayRef<int64_t> out = typeOf(op->getResult(0)).getShape();
  int64_t d = input.getDim(), groups = input.getGroups();
  int64_t before = 1; // elements of one index of the dims before d, in flat order
  for (int64_t i = 0; i < d; ++i)
    before *= in[i];
  int64_t size = in[d];
  // The result dim holding the first index of d: prefix(e) <= before < prefix(e + 1).
  int64_t e = 0, prefix = 1;
  while (e < static_cast<int64_t>(out.size()) && prefix * out[e] <= before)
    prefix *= out[e++];
  if (e >= static_cast<int64_t>(out.size()) || before % prefix != 0)
    return allReplicated();
  int64_t outer = before / prefix;
  while (e < static_cast<int64_t>(out.size())) {
    int64_t covered = prefix * out[e];
    if (covered % before != 0)
      return allReplicated();
    int64_t factor = covered / before;
    if (factor >= size)
      return factor % size == 0 ? make({input}, split(e, outer * groups)) : allReplicated();
    if (size % factor != 0)
      return allReplicated();
    if (factor % (groups * ranks) == 0)
      return make({input}, split(e, outer * groups));
    if (outer != 1 || groups % factor != 0)
      return allReplicated();
    groups /= factor;
    size /= factor;
    before *= factor;
    prefix = covered;
    ++e;
  }
  return allReplicated();
}

/// A slice keeps a split dim it does not cut, or cuts at group boundaries (taking whole
/// groups of a grouped split stays local).
ShardingDecision Rules::slice(SliceOp slice) {
  ShardingAttr input = operands[0];
  if (!input.isSplit())
    return {operands, input};
  int64_t d = input.getDim(), groups = input.getGroups();
  int64_t size = typeOf(slice.getInput()).getDimSize(d);
  int64_t start = slice.getStartIndices()[d], limit = slice.getLimitIndices()[d];
  int64_t stride = slice.getStrides()[d];
  if (start == 0 && limit == size && stride == 1)
    return make({input}, input);
  int64_t groupSize = size / groups;
  if (stride == 1 && groups > 1 && start % groupSize == 0 &&
      (limit - start) % groupSize == 0)
    return make({input}, split(d, (limit - start) / groupSize));
  return allReplicated();
}

/// Concatenating split operands along another dim keeps the split; along the split dim,
/// equal pieces become a grouped split (each rank holds its block of every piece).
ShardingDecision Rules::concat(int64_t axis) {
  if (llvm::all_of(operands, [](ShardingAttr s) { return s.isPartial(); }))
    return {operands, partial};
  resolvePartials();
  // Split across the concatenated axis: replicated operands (a CLS token broadcast over
  // the batch) are sliced locally to match the split ones.
  auto splitOperand = llvm::find_if(operands, [](ShardingAttr s) { return s.isSplit(); });
  if (splitOperand != operands.end() && splitOperand->getDim() != axis &&
      llvm::all_of(operands, [&](ShardingAttr s) {
        return s == *splitOperand || s.isReplicated();
      }))
    return make(SmallVector<ShardingAttr>(operands.size(), *splitOperand), *splitOperand);
  ShardingAttr first = operands.front();
  bool same = first.isSplit() &&
              llvm::all_of(operands, [&](ShardingAttr s) { return s == first; });
  if (!same)
    return allReplicated();
  bool equal = llvm::all_of(op->getOperands(), [&](Value v) {
    return typeOf(v).getDimSize(axis) == typeOf(op->getOperand(0)).getDimSize(axis);
  });
  if (!equal)
    return allReplicated();
  return make(operands, split(axis, first.getGroups() * op->getNumOperands()));
}

/// A table split along the gathered axis (a vocabulary-parallel embedding) gathers its own
/// rows and zeros elsewhere: partial sums. Split indices with a whole table give a result
/// split where the indices' dims land. Tables split along other dims are gathered whole:
/// a hidden-split embedding would split the residual stream the whole model then carries.
ShardingDecision Rules::gather(int64_t axis) {
  resolvePartials();
  ShardingAttr input = operands[0];
  if (input.isSplit() && input.getDim() == axis && input.getGroups() == 1)
    return make({input, replicated}, partial);
  // Split indices (a batch of token ids) look up their own rows of a whole table.
  ShardingAttr indices = operands[1];
  if (input.isReplicated() && indices.isSplit())
    return make({input, indices}, split(axis + indices.getDim(), indices.getGroups()));
  return allReplicated();
}

ShardingDecision Rules::broadcast() {
  ShardingAttr input = operands[0];
  if (!input.isSplit())
    return {operands, input};
  auto inType = typeOf(op->getOperand(0));
  auto outType = typeOf(op->getResult(0));
  int64_t dim = input.getDim() + outType.getRank() - inType.getRank();
  if (outType.getDimSize(dim) != inType.getDimSize(input.getDim()))
    return allReplicated();
  return make({input}, split(dim, input.getGroups()));
}

} // namespace

ShardingDecision mlir::parc::replicateEverything(Operation *op) {
  ShardingAttr replicated = ShardingAttr::getReplicated(op->getContext());
  return {SmallVector<ShardingAttr>(op->getNumOperands(), replicated), replicated};
}

std::optional<ShardingDecision> mlir::parc::decideSharding(Operation *op,
                                                           ArrayRef<ShardingAttr> operands,
                                                           int64_t ranks) {
  if (op->hasTrait<ReplicatedSharding>() || op->getNumResults() != 1)
    return replicateEverything(op);
  if (auto rule = dyn_cast<ShardingOpInterface>(op))
    return rule.decideSharding(operands, ranks);
  return std::nullopt;
}

ShardingDecision mlir::parc::decideElementwiseSharding(Operation *op,
                                                       ArrayRef<ShardingAttr> operands,
                                                       int64_t ranks, bool partialsPass) {
  return Rules(op, operands, ranks).elementwise(partialsPass);
}

ShardingDecision mlir::parc::decideReduceSharding(Operation *op,
                                                  ArrayRef<ShardingAttr> operands,
                                                  int64_t ranks, ArrayRef<int64_t> axes,
                                                  bool keepDims, bool linear) {
  return Rules(op, operands, ranks).reduce(axes, keepDims, linear);
}

ShardingDecision mlir::parc::decideRowSharding(Operation *op, ArrayRef<ShardingAttr> operands,
                                               int64_t ranks, int64_t axis) {
  return Rules(op, operands, ranks).softmax(axis);
}

//===----------------------------------------------------------------------===//
// Single ops' rules
//===----------------------------------------------------------------------===//

/// A load yields its weight's layout (a partitioned program's shard); the planner gives
/// candidate layouts to parc-propagate-sharding directly.
ShardingDecision LoadWeightOp::decideSharding(ArrayRef<ShardingAttr>, int64_t) {
  ShardingAttr replicated = ShardingAttr::getReplicated(getContext());
  auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(*this, getNameAttr());
  ShardingAttr layout = weight && weight.getShardingAttr() ? weight.getShardingAttr() : replicated;
  return {{}, layout};
}

ShardingDecision GeluOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return decideElementwiseSharding(*this, operands, ranks, false);
}
ShardingDecision SelectOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return decideElementwiseSharding(*this, operands, ranks, false);
}
ShardingDecision ConvertOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return decideElementwiseSharding(*this, operands, ranks, false);
}
ShardingDecision MatMulOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return Rules(*this, operands, ranks).matmul();
}
ShardingDecision TransposeOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return Rules(*this, operands, ranks).transpose(getPermutation());
}
ShardingDecision ReshapeOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return Rules(*this, operands, ranks).reshape();
}
ShardingDecision SliceOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return Rules(*this, operands, ranks).slice(*this);
}
ShardingDecision ConcatOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return Rules(*this, operands, ranks).concat(getAxis());
}
ShardingDecision GatherOp::decideSharding(ArrayRef<ShardingAttr> operands, int64_t ranks) {
  return Rules(*this, operands, ranks).gather(getAxis());
}
ShardingDecision BroadcastToOp::decideSharding(ArrayRef<ShardingAttr> operands,
                                               int64_t ranks) {
  return Rules(*this, operands, ranks).broadcast();
}
