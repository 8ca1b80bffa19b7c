//===- ImportContraction.cpp - Conv and Einsum lowered to matmuls ---------===//
//
// Converters of the ONNX contractions that parc has no op for: Conv (any number of
// spatial dims, with groups, strides, padding and dilation) and Einsum (any equation).
// Both are lowered on import to slices, transposes, reshapes, reductions and one
// parc.matmul per contraction, so the planner's sharding, gradient and cost rules and
// every backend's kernels apply to them without anything written for them.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"
#include "OnnxTensors.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <map>
#include <numeric>

using namespace mlir;
using namespace mlir::parc;

static int64_t product(ArrayRef<int64_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
}

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

namespace {
/// The geometry of one Conv node, checked: per spatial dim, the kernel extent, stride,
/// dilation, zero padding before and after, and the output extent.
struct ConvGeometry {
  SmallVector<int64_t> kernel, strides, dilations, padBegin, padEnd, output;
  int64_t groups = 1;
};
} // namespace

/// Reads and checks Conv's attributes against the input [N, C, S..] and weight
/// [M, C / group, K..] shapes.
static FailureOr<ConvGeometry> readConvGeometry(NodeImporter &node,
                                                ArrayRef<int64_t> inputShape,
                                                ArrayRef<int64_t> weightShape) {
  int64_t spatial = static_cast<int64_t>(inputShape.size()) - 2;
  if (spatial < 1 || weightShape.size() != inputShape.size())
    return node.emitError() << "needs an input [N, C, spatial..] and a weight of the same "
                               "rank, got ranks "
                            << inputShape.size() << " and " << weightShape.size();
  ConvGeometry g;
  g.groups = node.intAttr("group", 1);
  int64_t channels = inputShape[1], filters = weightShape[0];
  if (g.groups < 1 || channels % g.groups || filters % g.groups ||
      weightShape[1] * g.groups != channels)
    return node.emitError() << "group " << g.groups << " does not divide " << channels
                            << " input channels into weight groups of " << weightShape[1]
                            << " and " << filters << " filters";
  g.kernel.assign(weightShape.begin() + 2, weightShape.end());
  if (auto shape = node.intsAttr("kernel_shape"); shape && *shape != ArrayRef(g.kernel))
    return node.emitError() << "kernel_shape does not match the weight's spatial dims";
  auto perDim = [&](StringRef name, int64_t size,
                    int64_t fallback) -> FailureOr<SmallVector<int64_t>> {
    std::optional<SmallVector<int64_t>> values = node.intsAttr(name);
    if (!values)
      return SmallVector<int64_t>(size, fallback);
    if (static_cast<int64_t>(values->size()) != size)
      return node.emitError() << name << " has " << values->size() << " values, expected "
                              << size;
    return *values;
  };
  FailureOr<SmallVector<int64_t>> strides = perDim("strides", spatial, 1);
  FailureOr<SmallVector<int64_t>> dilations = perDim("dilations", spatial, 1);
  FailureOr<SmallVector<int64_t>> pads = perDim("pads", 2 * spatial, 0);
  if (failed(strides) || failed(dilations) || failed(pads))
    return failure();
  g.strides = *strides;
  g.dilations = *dilations;
  std::string autoPad = node.stringAttr("auto_pad", "NOTSET");
  for (int64_t d = 0; d < spatial; ++d) {
    int64_t size = inputShape[2 + d], stride = g.strides[d], dilation = g.dilations[d];
    if (stride < 1 || dilation < 1)
      return node.emitError() << "strides and dilations must be positive";
    // In 128 bits: strides, dilations and pads are the model's numbers, as large as it
    // likes; what does not fit a tensor dim is refused below.
    using Wide = __int128;
    Wide wideSpan = Wide(g.kernel[d] - 1) * dilation + 1;
    if (wideSpan > kMaxTensorBytes)
      return node.emitError() << "the dilated kernel of spatial dim " << d << " is too large";
    int64_t span = static_cast<int64_t>(wideSpan);
    int64_t begin = (*pads)[d], end = (*pads)[spatial + d];
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t out = static_cast<int64_t>((Wide(size) + stride - 1) / stride);
      int64_t total = static_cast<int64_t>(
          std::max<Wide>(0, Wide(out - 1) * stride + span - size));
      begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    } else if (autoPad == "VALID") {
      begin = end = 0;
    } else if (autoPad != "NOTSET") {
      return node.emitError() << "auto_pad '" << autoPad << "' is not one of NOTSET, "
                                 "SAME_UPPER, SAME_LOWER, VALID";
    }
    if (begin < 0 || end < 0)
      return node.emitError() << "pads must not be negative";
    if (Wide(size) + begin + end > kMaxTensorBytes)
      return node.emitError() << "pads make spatial dim " << d << " too large";
    int64_t padded = size + begin + end;
    if (padded < span)
      return node.emitError() << "spatial dim " << d << " (" << size << " padded to "
                              << padded << ") is smaller than the dilated kernel (" << span
                              << ")";
    g.padBegin.push_back(begin);
    g.padEnd.push_back(end);
    g.output.push_back((padded - span) / stride + 1);
  }
  return g;
}

/// `input` with `begin` and `end` zeros added along each spatial dim (2, 3, ..).
static FailureOr<Value> padSpatialDims(NodeImporter &node, Value input,
                                       ArrayRef<int64_t> begin, ArrayRef<int64_t> end) {
  Type element = NodeImporter::typeOf(input).getElementType();
  for (auto [d, before, after] : llvm::enumerate(begin, end)) {
    if (before == 0 && after == 0)
      continue;
    int64_t axis = 2 + d;
    SmallVector<Value> pieces;
    for (int64_t width : {before, int64_t(-1), after}) {
      if (width == -1) {
        pieces.push_back(input);
        continue;
      }
      if (width == 0)
        continue;
      SmallVector<int64_t> shape(NodeImporter::typeOf(input).getShape());
      shape[axis] = width;
      FailureOr<Value> zeros = node.broadcastTo(node.scalar(element, 0), shape);
      if (failed(zeros))
        return failure();
      pieces.push_back(*zeros);
    }
    FailureOr<Value> padded = node.concat(pieces, axis);
    if (failed(padded))
      return failure();
    input = *padded;
  }
  return input;
}

/// The im2col matrix of a padded input [N, C, P..]: [N, C, prod(K), prod(O)], whose entry
/// (n, c, k, o) is the input element that kernel offset k meets at output position o.
/// A kernel that tiles the input (stride = kernel, no dilation: ViT's patch embedding)
/// takes one reshape and transpose; otherwise each kernel offset is one strided slice.
static FailureOr<Value> im2col(NodeImporter &node, Value padded, const ConvGeometry &g) {
  ArrayRef<int64_t> shape = NodeImporter::typeOf(padded).getShape();
  int64_t batch = shape[0], channels = shape[1], spatial = g.kernel.size();
  SmallVector<int64_t> colsShape{batch, channels, product(g.kernel), product(g.output)};
  bool tiles = g.strides == g.kernel && llvm::all_of(g.dilations, [](int64_t d) {
                 return d == 1;
               });
  if (tiles) {
    // Drop the tail that no patch covers, view [N, C, O0, K0, O1, K1, ..], and move the
    // kernel dims before the output dims.
    SmallVector<int64_t> limits(shape), split{batch, channels};
    SmallVector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1);
    SmallVector<int64_t> permutation{0, 1};
    for (int64_t d = 0; d < spatial; ++d) {
      limits[2 + d] = g.output[d] * g.kernel[d];
      split.append({g.output[d], g.kernel[d]});
    }
    for (int64_t d = 0; d < spatial; ++d)
      permutation.push_back(3 + 2 * d);
    for (int64_t d = 0; d < spatial; ++d)
      permutation.push_back(2 + 2 * d);
    FailureOr<Value> covered = node.slice(padded, starts, limits, steps);
    if (failed(covered))
      return failure();
    FailureOr<Value> patches = node.reshape(*covered, split);
    if (failed(patches))
      return failure();
    FailureOr<Value> moved = node.transpose(*patches, permutation);
    if (failed(moved))
      return failure();
    return node.reshape(*moved, colsShape);
  }
  SmallVector<Value> columns;
  SmallVector<int64_t> offset(spatial, 0);
  SmallVector<int64_t> columnShape{batch, channels, 1, product(g.output)};
  for (int64_t k = 0, count = product(g.kernel); k < count; ++k) {
    // offset = k unravelled row-major over the kernel dims.
    for (int64_t d = spatial - 1, rest = k; d >= 0; --d) {
      offset[d] = rest % g.kernel[d];
      rest /= g.kernel[d];
    }
    SmallVector<int64_t> starts{0, 0}, limits{batch, channels}, steps{1, 1};
    for (int64_t d = 0; d < spatial; ++d) {
      starts.push_back(offset[d] * g.dilations[d]);
      limits.push_back(starts.back() + (g.output[d] - 1) * g.strides[d] + 1);
      steps.push_back(g.strides[d]);
    }
    FailureOr<Value> column = node.slice(padded, starts, limits, steps);
    if (failed(column))
      return failure();
    FailureOr<Value> flat = node.reshape(*column, columnShape);
    if (failed(flat))
      return failure();
    columns.push_back(*flat);
  }
  if (columns.size() == 1)
    return columns.front();
  return node.concat(columns, 2);
}

/// Conv(X [N, C, S..], W [M, C/G, K..], B [M]) as weight x im2col: per group g, the
/// [M/G, C/G * prod(K)] weight rows times the [C/G * prod(K), N * prod(O)] columns. With
/// one group that is a single 2-D matmul, which the tensor-parallel planner splits by
/// filters like any linear layer.
static LogicalResult convertConv(NodeImporter &node) {
  FailureOr<Value> input = node.input(0), weight = node.input(1);
  if (failed(input) || failed(weight))
    return failure();
  auto inputType = NodeImporter::typeOf(*input), weightType = NodeImporter::typeOf(*weight);
  if (!isa<FloatType>(inputType.getElementType()) ||
      inputType.getElementType() != weightType.getElementType())
    return node.emitError() << "needs float input and weight of one element type, got "
                            << inputType.getElementType() << " and "
                            << weightType.getElementType();
  FailureOr<ConvGeometry> geometry =
      readConvGeometry(node, inputType.getShape(), weightType.getShape());
  if (failed(geometry))
    return failure();
  const ConvGeometry &g = *geometry;
  int64_t batch = inputType.getDimSize(0), filters = weightType.getDimSize(0);
  int64_t groups = g.groups, groupFilters = filters / groups;
  int64_t depth = weightType.getDimSize(1) * product(g.kernel);
  int64_t positions = product(g.output);
  FailureOr<Value> padded = padSpatialDims(node, *input, g.padBegin, g.padEnd);
  if (failed(padded))
    return failure();
  FailureOr<Value> cols = im2col(node, *padded, g);
  if (failed(cols))
    return failure();
  // [N, C, K, O] = [N, G, depth, O] -> [G, depth, N, O] -> [G, depth, N * O].
  FailureOr<Value> grouped = node.reshape(*cols, {batch, groups, depth, positions});
  if (failed(grouped))
    return failure();
  FailureOr<Value> moved = node.transpose(*grouped, {1, 2, 0, 3});
  if (failed(moved))
    return failure();
  // One group: a plain 2-D matmul; several: one batched over the groups.
  SmallVector<int64_t> matrixShape{depth, batch * positions}, rowsShape{groupFilters, depth};
  if (groups > 1) {
    matrixShape.insert(matrixShape.begin(), groups);
    rowsShape.insert(rowsShape.begin(), groups);
  }
  FailureOr<Value> matrix = node.reshape(*moved, matrixShape);
  FailureOr<Value> rows = node.reshape(*weight, rowsShape);
  if (failed(matrix) || failed(rows))
    return failure();
  FailureOr<Value> filtered = node.matmul(*rows, *matrix);
  if (failed(filtered))
    return failure();
  // [G, M/G, N * O] -> [G, M/G, N, O] -> [N, G, M/G, O] -> [N, M, O..].
  FailureOr<Value> split = node.reshape(*filtered, {groups, groupFilters, batch, positions});
  if (failed(split))
    return failure();
  FailureOr<Value> ordered = node.transpose(*split, {2, 0, 1, 3});
  if (failed(ordered))
    return failure();
  SmallVector<int64_t> outputShape{batch, filters};
  llvm::append_range(outputShape, g.output);
  FailureOr<Value> result = node.reshape(*ordered, outputShape);
  if (failed(result) || !node.hasInput(2))
    return node.setResult(result);
  FailureOr<Value> bias = node.input(2);
  if (failed(bias))
    return failure();
  if (NodeImporter::typeOf(*bias).getShape() != ArrayRef<int64_t>{filters})
    return node.emitError() << "bias must have shape [" << filters << "]";
  SmallVector<int64_t> biasShape(outputShape.size() - 1, 1);
  biasShape[0] = filters;
  FailureOr<Value> column = node.reshape(*bias, biasShape);
  if (failed(column))
    return failure();
  return node.setResult(node.arithmetic<AddOp>(*result, *column));
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

namespace {
/// A subscript: a letter's code, or kEllipsisLabel + i for dim i of the broadcast
/// (ellipsis) dims, numbered so that right-aligned ellipsis dims of all operands share one.
using Label = int64_t;
constexpr Label kEllipsisLabel = 256;

/// A value with one label per dim.
struct LabelledValue {
  Value value;
  SmallVector<Label> labels;
};

/// A parsed, checked equation: the labels of each operand and of the result.
struct EinsumEquation {
  SmallVector<SmallVector<Label>> operands;
  SmallVector<Label> result;
};
} // namespace

static std::string describeLabel(Label label) {
  if (label >= kEllipsisLabel)
    return "...";
  return std::string(1, static_cast<char>(label));
}

/// Parses one term ("ab...c") given its operand's rank (or -1 for the result) and the
/// number of ellipsis dims shared by all operands.
static FailureOr<SmallVector<Label>> parseTerm(NodeImporter &node, StringRef term,
                                               int64_t rank, int64_t ellipsisDims) {
  SmallVector<Label> labels;
  bool sawEllipsis = false;
  size_t letters = llvm::count_if(term, llvm::isAlpha);
  for (size_t i = 0; i < term.size(); ++i) {
    char c = term[i];
    if (llvm::isAlpha(c)) {
      labels.push_back(static_cast<unsigned char>(c));
      continue;
    }
    if (!term.substr(i).starts_with("...") || sawEllipsis)
      return node.emitError() << "equation term '" << term << "' has an unexpected '" << c
                              << "'";
    sawEllipsis = true;
    int64_t own = rank < 0 ? ellipsisDims : rank - static_cast<int64_t>(letters);
    if (own < 0 || own > ellipsisDims)
      return node.emitError() << "equation term '" << term << "' has more subscripts than "
                              << "its operand's rank " << rank;
    for (int64_t d = ellipsisDims - own; d < ellipsisDims; ++d)
      labels.push_back(kEllipsisLabel + d);
    i += 2;
  }
  if (rank >= 0 && static_cast<int64_t>(labels.size()) != rank)
    return node.emitError() << "equation term '" << term << "' has " << labels.size()
                            << " subscripts for an operand of rank " << rank;
  return labels;
}

static FailureOr<EinsumEquation> parseEquation(NodeImporter &node, StringRef equation,
                                               ArrayRef<Value> operands) {
  std::string text;
  for (char c : equation)
    if (c != ' ')
      text.push_back(c);
  StringRef inputs = text, output;
  bool explicitResult = false;
  if (size_t arrow = inputs.find("->"); arrow != StringRef::npos) {
    output = inputs.substr(arrow + 2);
    inputs = inputs.substr(0, arrow);
    explicitResult = true;
  }
  SmallVector<StringRef> terms;
  inputs.split(terms, ',');
  if (terms.size() != operands.size())
    return node.emitError() << "equation '" << equation << "' names " << terms.size()
                            << " operands but the node has " << operands.size();
  // The ellipsis covers the same number of trailing-aligned dims in every operand: the
  // most any operand has.
  int64_t ellipsisDims = 0;
  for (auto [term, operand] : llvm::zip(terms, operands))
    if (term.contains("..."))
      ellipsisDims = std::max<int64_t>(
          ellipsisDims, NodeImporter::typeOf(operand).getRank() -
                            static_cast<int64_t>(llvm::count_if(term, llvm::isAlpha)));
  EinsumEquation parsed;
  for (auto [i, term] : llvm::enumerate(terms)) {
    FailureOr<SmallVector<Label>> labels = parseTerm(
        node, term, NodeImporter::typeOf(operands[i]).getRank(), ellipsisDims);
    if (failed(labels))
      return failure();
    for (auto [j, label] : llvm::enumerate(*labels))
      if (llvm::is_contained(ArrayRef(*labels).drop_front(j + 1), label))
        return node.emitError() << "subscript '" << describeLabel(label)
                                << "' repeats in operand " << i
                                << " (a diagonal), which is not supported";
    parsed.operands.push_back(*labels);
  }
  if (explicitResult) {
    FailureOr<SmallVector<Label>> labels =
        parseTerm(node, output, /*rank=*/-1, ellipsisDims);
    if (failed(labels))
      return failure();
    parsed.result = *labels;
  } else {
    // Implicit output: the ellipsis dims, then the letters used once, alphabetically.
    for (int64_t d = 0; d < ellipsisDims; ++d)
      parsed.result.push_back(kEllipsisLabel + d);
    std::map<Label, int> uses;
    for (ArrayRef<Label> labels : parsed.operands)
      for (Label label : labels)
        if (label < kEllipsisLabel)
          ++uses[label];
    for (auto [label, count] : uses)
      if (count == 1)
        parsed.result.push_back(label);
  }
  for (auto [j, label] : llvm::enumerate(parsed.result)) {
    if (llvm::is_contained(ArrayRef(parsed.result).drop_front(j + 1), label))
      return node.emitError() << "subscript '" << describeLabel(label)
                              << "' repeats in the result";
    if (llvm::none_of(parsed.operands,
                      [&](ArrayRef<Label> labels) { return llvm::is_contained(labels, label); }))
      return node.emitError() << "result subscript '" << describeLabel(label)
                              << "' is in no operand";
  }
  return parsed;
}

static int64_t dimOf(const LabelledValue &v, Label label) {
  auto it = llvm::find(v.labels, label);
  return NodeImporter::typeOf(v.value).getDimSize(it - v.labels.begin());
}

/// Sums `v` over its labels that are not in `keep`.
static FailureOr<LabelledValue> sumOutLabels(NodeImporter &node, LabelledValue v,
                                             ArrayRef<Label> keep) {
  SmallVector<int64_t> axes;
  LabelledValue result{v.value, {}};
  for (auto [axis, label] : llvm::enumerate(v.labels)) {
    if (llvm::is_contained(keep, label))
      result.labels.push_back(label);
    else
      axes.push_back(axis);
  }
  if (axes.empty())
    return v;
  FailureOr<Value> summed = node.reduce<ReduceSumOp>(v.value, axes, /*keepDims=*/false);
  if (failed(summed))
    return failure();
  result.value = *summed;
  return result;
}

/// `v` transposed to `order` (a permutation of its labels), then reshaped to the
/// products of the consecutive groups of `groupSizes` labels.
static FailureOr<Value> arrange(NodeImporter &node, const LabelledValue &v,
                                ArrayRef<Label> order, ArrayRef<size_t> groupSizes) {
  SmallVector<int64_t> permutation;
  for (Label label : order)
    permutation.push_back(llvm::find(v.labels, label) - v.labels.begin());
  FailureOr<Value> moved = node.transpose(v.value, permutation);
  if (failed(moved))
    return failure();
  ArrayRef<int64_t> shape = NodeImporter::typeOf(*moved).getShape();
  SmallVector<int64_t> grouped;
  size_t next = 0;
  for (size_t size : groupSizes) {
    grouped.push_back(product(shape.slice(next, size)));
    next += size;
  }
  return node.reshape(*moved, grouped);
}

/// Contracts two labelled operands into one carrying the labels in `keep` that either
/// has: batch labels (in both, kept) lead, then lhs-only, then rhs-only labels; labels in
/// both but not kept are summed by one [batch, lhs, k] x [batch, k, rhs] matmul.
static FailureOr<LabelledValue> contractPair(NodeImporter &node, LabelledValue lhs,
                                             LabelledValue rhs, ArrayRef<Label> keep) {
  auto inBoth = [&](Label l) { return llvm::is_contained(rhs.labels, l); };
  SmallVector<Label> both;
  llvm::copy_if(lhs.labels, std::back_inserter(both), inBoth);
  // Shared labels stay for the matmul even when the result drops them.
  SmallVector<Label> keepOrShared(keep);
  llvm::append_range(keepOrShared, both);
  FailureOr<LabelledValue> lhsSummed = sumOutLabels(node, lhs, keepOrShared);
  FailureOr<LabelledValue> rhsSummed = sumOutLabels(node, rhs, keepOrShared);
  if (failed(lhsSummed) || failed(rhsSummed))
    return failure();
  lhs = *lhsSummed;
  rhs = *rhsSummed;
  SmallVector<Label> batch, contracted, lhsOnly, rhsOnly;
  for (Label l : lhs.labels) {
    if (!inBoth(l))
      lhsOnly.push_back(l);
    else if (llvm::is_contained(keep, l))
      batch.push_back(l);
    else
      contracted.push_back(l);
  }
  for (Label l : rhs.labels)
    if (!llvm::is_contained(lhs.labels, l))
      rhsOnly.push_back(l);
  // A shared dim of 1 on one side broadcasts to the other's extent.
  for (LabelledValue *side : {&lhs, &rhs}) {
    LabelledValue &other = side == &lhs ? rhs : lhs;
    SmallVector<int64_t> shape(NodeImporter::typeOf(side->value).getShape());
    bool widened = false;
    for (auto [axis, label] : llvm::enumerate(side->labels)) {
      if (!llvm::is_contained(other.labels, label))
        continue;
      int64_t mine = shape[axis], theirs = dimOf(other, label);
      if (mine == theirs)
        continue;
      if (mine != 1 && theirs != 1)
        return node.emitError() << "subscript '" << describeLabel(label) << "' has sizes "
                                << mine << " and " << theirs;
      if (mine == 1) {
        shape[axis] = theirs;
        widened = true;
      }
    }
    if (widened) {
      FailureOr<Value> wide = node.broadcastTo(side->value, shape);
      if (failed(wide))
        return failure();
      side->value = *wide;
    }
  }
  SmallVector<Label> lhsOrder(batch), rhsOrder(batch);
  llvm::append_range(lhsOrder, lhsOnly);
  llvm::append_range(lhsOrder, contracted);
  llvm::append_range(rhsOrder, contracted);
  llvm::append_range(rhsOrder, rhsOnly);
  SmallVector<size_t> lhsGroups{lhsOnly.size(), contracted.size()};
  SmallVector<size_t> rhsGroups{contracted.size(), rhsOnly.size()};
  if (!batch.empty()) {
    lhsGroups.insert(lhsGroups.begin(), batch.size());
    rhsGroups.insert(rhsGroups.begin(), batch.size());
  }
  FailureOr<Value> lhsMatrix = arrange(node, lhs, lhsOrder, lhsGroups);
  FailureOr<Value> rhsMatrix = arrange(node, rhs, rhsOrder, rhsGroups);
  if (failed(lhsMatrix) || failed(rhsMatrix))
    return failure();
  FailureOr<Value> pairProduct = node.matmul(*lhsMatrix, *rhsMatrix);
  if (failed(pairProduct))
    return failure();
  LabelledValue result{Value(), batch};
  llvm::append_range(result.labels, lhsOnly);
  llvm::append_range(result.labels, rhsOnly);
  SmallVector<int64_t> shape;
  for (Label l : batch)
    shape.push_back(dimOf(lhs, l));
  for (Label l : lhsOnly)
    shape.push_back(dimOf(lhs, l));
  for (Label l : rhsOnly)
    shape.push_back(dimOf(rhs, l));
  FailureOr<Value> unflattened = node.reshape(*pairProduct, shape);
  if (failed(unflattened))
    return failure();
  result.value = *unflattened;
  return result;
}

/// Einsum(equation, operands..) as pairwise contractions from the left: before each, an
/// operand is summed over the labels that neither the result nor a later operand uses.
static LogicalResult convertEinsum(NodeImporter &node) {
  FailureOr<SmallVector<Value>> operands = node.inputs();
  if (failed(operands))
    return failure();
  if (operands->empty())
    return node.emitError() << "needs at least one operand";
  std::string equation = node.stringAttr("equation", "");
  FailureOr<EinsumEquation> parsed = parseEquation(node, equation, *operands);
  if (failed(parsed))
    return failure();
  auto neededAfter = [&](size_t i) {
    SmallVector<Label> needed(parsed->result);
    for (size_t j = i + 1; j < operands->size(); ++j)
      llvm::append_range(needed, parsed->operands[j]);
    return needed;
  };
  FailureOr<LabelledValue> current =
      sumOutLabels(node, {(*operands)[0], parsed->operands[0]}, neededAfter(0));
  for (size_t i = 1; i < operands->size() && succeeded(current); ++i) {
    SmallVector<Label> needed = neededAfter(i);
    FailureOr<LabelledValue> next =
        sumOutLabels(node, {(*operands)[i], parsed->operands[i]}, [&] {
          SmallVector<Label> k(needed);
          llvm::append_range(k, current->labels);
          return k;
        }());
    if (failed(next))
      return failure();
    current = contractPair(node, *current, *next, needed);
  }
  if (failed(current))
    return failure();
  FailureOr<Value> result = arrange(node, *current, parsed->result,
                                    SmallVector<size_t>(parsed->result.size(), 1));
  return node.setResult(result);
}

void mlir::parc::registerContractionConverters(llvm::StringMap<OpConverter> &converters) {
  converters["Conv"] = convertConv;
  converters["Einsum"] = convertEinsum;
}
