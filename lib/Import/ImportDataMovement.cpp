//===- ImportDataMovement.cpp - shape, indexing and data-movement ops -----===//
//
// Converters of ONNX operators that move or describe data: Reshape and its relatives
// (Flatten, Squeeze, Unsqueeze), Transpose, Concat, Split, Slice, Gather, Expand, and the
// shape producers (Shape, Size, ConstantOfShape, Range, Constant) that fold to literals
// because parc compiles static shapes.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"
#include "OnnxTensors.h"

#include "onnx/onnx_pb.h"

#include <cmath>

using namespace mlir;
using namespace mlir::parc;

static LogicalResult convertReshape(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  FailureOr<SmallVector<int64_t>> shape = node.constantInts(1, "shape");
  if (failed(input) || failed(shape))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  bool allowZero = node.intAttr("allowzero", 0) != 0;
  SmallVector<int64_t> dims(*shape);
  int64_t inferred = -1, known = 1;
  for (auto [i, dim] : llvm::enumerate(dims)) {
    if (dim == 0 && !allowZero) {
      if (static_cast<int64_t>(i) >= type.getRank())
        return node.emitError() << "shape dim " << i
                                << " is 0 (copy) but the input has rank "
                                << type.getRank();
      dim = type.getDimSize(i);
    }
    if (dim == -1) {
      if (inferred >= 0)
        return node.emitError() << "shape has more than one -1";
      inferred = i;
      continue;
    }
    if (dim < 0)
      return node.emitError() << "shape dim " << i << " is " << dim;
    if (__builtin_mul_overflow(known, dim, &known))
      return node.emitError() << "cannot reshape " << formatShape(type.getShape())
                              << " into [" << *shape << "]";
  }
  if (inferred >= 0) {
    if (known == 0 || type.getNumElements() % known != 0)
      return node.emitError() << "cannot reshape "
                              << formatShape(type.getShape()) << " into ["
                              << *shape << "]";
    dims[inferred] = type.getNumElements() / known;
  }
  FailureOr<Value> result = node.reshape(*input, dims);
  return node.setResult(result);
}

static LogicalResult convertFlatten(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  int64_t axis = node.intAttr("axis", 1);
  if (axis < 0)
    axis += type.getRank();
  if (axis < 0 || axis > type.getRank())
    return node.emitError() << "axis " << node.intAttr("axis", 1)
                            << " is out of range for rank " << type.getRank();
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= type.getDimSize(d);
  FailureOr<Value> result =
      node.reshape(*input, {outer, type.getNumElements() / std::max<int64_t>(outer, 1)});
  return node.setResult(result);
}

/// The axes of Squeeze/Unsqueeze: an attribute before opset 13, an input from 13 on.
static FailureOr<std::optional<SmallVector<int64_t>>> squeezeAxes(NodeImporter &node) {
  if (node.getOpset() < 13)
    return node.intsAttr("axes");
  if (!node.hasInput(1))
    return std::optional<SmallVector<int64_t>>();
  FailureOr<SmallVector<int64_t>> axes = node.constantInts(1, "axes");
  if (failed(axes))
    return failure();
  return std::optional<SmallVector<int64_t>>(*axes);
}

static LogicalResult convertSqueeze(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  FailureOr<std::optional<SmallVector<int64_t>>> axes = squeezeAxes(node);
  if (failed(input) || failed(axes))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  SmallVector<bool> drop(type.getRank(), false);
  if (!*axes) {
    for (int64_t d = 0; d < type.getRank(); ++d)
      drop[d] = type.getDimSize(d) == 1;
  } else {
    for (int64_t axis : **axes) {
      FailureOr<int64_t> d = node.normalizeAxis(axis, type.getRank(), "axis");
      if (failed(d))
        return failure();
      if (type.getDimSize(*d) != 1)
        return node.emitError() << "cannot squeeze dim " << *d << " of size "
                                << type.getDimSize(*d);
      drop[*d] = true;
    }
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (!drop[d])
      shape.push_back(type.getDimSize(d));
  FailureOr<Value> result = node.reshape(*input, shape);
  return node.setResult(result);
}

static LogicalResult convertUnsqueeze(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  FailureOr<std::optional<SmallVector<int64_t>>> axes = squeezeAxes(node);
  if (failed(input) || failed(axes))
    return failure();
  if (!*axes)
    return node.emitError() << "needs axes";
  auto type = NodeImporter::typeOf(*input);
  int64_t rank = type.getRank() + static_cast<int64_t>((*axes)->size());
  SmallVector<bool> inserted(rank, false);
  for (int64_t axis : **axes) {
    FailureOr<int64_t> d = node.normalizeAxis(axis, rank, "axis");
    if (failed(d))
      return failure();
    if (inserted[*d])
      return node.emitError() << "axis " << axis << " is repeated";
    inserted[*d] = true;
  }
  SmallVector<int64_t> shape;
  int64_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    shape.push_back(inserted[d] ? 1 : type.getDimSize(next++));
  FailureOr<Value> result = node.reshape(*input, shape);
  return node.setResult(result);
}

static LogicalResult convertTranspose(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  int64_t rank = NodeImporter::typeOf(*input).getRank();
  SmallVector<int64_t> permutation;
  if (std::optional<SmallVector<int64_t>> perm = node.intsAttr("perm")) {
    permutation = *perm;
  } else {
    for (int64_t d = rank - 1; d >= 0; --d)
      permutation.push_back(d);
  }
  FailureOr<Value> result = node.transpose(*input, permutation);
  return node.setResult(result);
}

static LogicalResult convertConcat(NodeImporter &node) {
  FailureOr<SmallVector<Value>> inputs = node.inputs();
  if (failed(inputs))
    return failure();
  if (inputs->empty())
    return node.emitError() << "needs at least one input";
  if (!node.findAttr("axis"))
    return node.emitError() << "the axis attribute is required";
  FailureOr<int64_t> axis = node.normalizeAxis(
      node.intAttr("axis", 0), NodeImporter::typeOf(inputs->front()).getRank(),
      "axis");
  if (failed(axis))
    return failure();
  FailureOr<Value> result = node.concat(*inputs, *axis);
  return node.setResult(result);
}

static LogicalResult convertSplit(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), type.getRank(), "axis");
  if (failed(axis))
    return failure();
  int64_t dim = type.getDimSize(*axis);
  int64_t outputs = node.numOutputs();
  SmallVector<int64_t> sizes;
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> split = node.constantInts(1, "split");
    if (failed(split))
      return failure();
    sizes = *split;
  } else if (std::optional<SmallVector<int64_t>> split = node.intsAttr("split")) {
    sizes = *split;
  } else {
    int64_t parts = node.findAttr("num_outputs") ? node.intAttr("num_outputs", 1)
                                                 : outputs;
    if (parts <= 0 || parts != outputs)
      return node.emitError() << "num_outputs " << parts << " is not the node's "
                              << outputs << " outputs";
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t p = 0, left = dim; p < parts; ++p, left -= chunk)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, left)));
  }
  int64_t total = 0;
  bool valid = true;
  for (int64_t size : sizes)
    valid &= size >= 0 && !__builtin_add_overflow(total, size, &total);
  if (!valid || total != dim || static_cast<int64_t>(sizes.size()) != outputs)
    return node.emitError() << "split sizes [" << sizes << "] do not divide dim "
                            << *axis << " of size " << dim << " into "
                            << outputs << " outputs";
  SmallVector<int64_t> starts(type.getRank(), 0);
  SmallVector<int64_t> limits(type.getShape());
  SmallVector<int64_t> strides(type.getRank(), 1);
  int64_t offset = 0;
  for (auto [i, size] : llvm::enumerate(sizes)) {
    starts[*axis] = offset;
    limits[*axis] = offset + size;
    offset += size;
    FailureOr<Value> part = node.slice(*input, starts, limits, strides);
    if (failed(part))
      return failure();
    node.setOutput(i, *part);
  }
  return success();
}

static LogicalResult convertSlice(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  FailureOr<SmallVector<int64_t>> starts = node.constantInts(1, "starts");
  FailureOr<SmallVector<int64_t>> ends = node.constantInts(2, "ends");
  if (failed(input) || failed(starts) || failed(ends))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes, steps;
  if (node.hasInput(3)) {
    FailureOr<SmallVector<int64_t>> given = node.constantInts(3, "axes");
    if (failed(given))
      return failure();
    axes = *given;
  } else {
    for (int64_t d = 0; d < static_cast<int64_t>(starts->size()); ++d)
      axes.push_back(d);
  }
  if (node.hasInput(4)) {
    FailureOr<SmallVector<int64_t>> given = node.constantInts(4, "steps");
    if (failed(given))
      return failure();
    steps = *given;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (starts->size() != ends->size() || axes.size() != starts->size() ||
      steps.size() != starts->size())
    return node.emitError() << "starts, ends, axes and steps differ in length";

  SmallVector<int64_t> lo(rank, 0), hi(type.getShape()), stride(rank, 1);
  for (size_t k = 0; k < axes.size(); ++k) {
    FailureOr<int64_t> d = node.normalizeAxis(axes[k], rank, "axis");
    if (failed(d))
      return failure();
    int64_t size = type.getDimSize(*d);
    if (steps[k] <= 0)
      return node.emitError() << "step " << steps[k] << " on axis " << *d
                              << " is not supported (only positive steps)";
    auto clampIndex = [size](int64_t index) {
      if (index < 0)
        index += size;
      return std::clamp<int64_t>(index, 0, size);
    };
    lo[*d] = clampIndex((*starts)[k]);
    hi[*d] = std::max(lo[*d], clampIndex((*ends)[k]));
    stride[*d] = steps[k];
  }
  FailureOr<Value> result = node.slice(*input, lo, hi, stride);
  return node.setResult(result);
}

static LogicalResult convertGather(NodeImporter &node) {
  FailureOr<Value> input = node.input(0), indices = node.input(1);
  if (failed(input) || failed(indices))
    return failure();
  FailureOr<int64_t> axis = node.normalizeAxis(
      node.intAttr("axis", 0), NodeImporter::typeOf(*input).getRank(), "axis");
  if (failed(axis))
    return failure();
  FailureOr<Value> result = node.gather(*input, *indices, *axis);
  return node.setResult(result);
}

static LogicalResult convertExpand(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  FailureOr<SmallVector<int64_t>> shape = node.constantInts(1, "shape");
  if (failed(input) || failed(shape))
    return failure();
  FailureOr<SmallVector<int64_t>> target = inferBroadcastShape(
      {NodeImporter::typeOf(*input).getShape(), *shape},
      [&] { return node.emitError(); });
  if (failed(target))
    return failure();
  FailureOr<Value> result = node.broadcastTo(*input, *target);
  return node.setResult(result);
}

/// GatherND(data, indices, batch_dims = b) as one Gather on a flattened table. With data
/// [B.., D1..Dk, R..] and indices [B.., I.., k], each index tuple (negative components
/// wrapped by their dim) becomes the linear row ((batch * D1 + i1) * D2 + i2 ...) of data
/// viewed as [prod(B) * prod(D), R..]; gathering those rows gives [B.., I.., R..].
static LogicalResult convertGatherND(NodeImporter &node) {
  FailureOr<Value> data = node.input(0), indices = node.input(1);
  if (failed(data) || failed(indices))
    return failure();
  ArrayRef<int64_t> dataShape = NodeImporter::typeOf(*data).getShape();
  ArrayRef<int64_t> indexShape = NodeImporter::typeOf(*indices).getShape();
  int64_t batchDims = node.intAttr("batch_dims", 0);
  int64_t indexRank = indexShape.size();
  if (indexRank < 1 || batchDims < 0 || batchDims >= indexRank ||
      batchDims >= static_cast<int64_t>(dataShape.size()))
    return node.emitError() << "batch_dims " << batchDims << " must be below the ranks of "
                            << "data (" << dataShape.size() << ") and indices ("
                            << indexRank << ")";
  int64_t tupleSize = indexShape.back();
  if (tupleSize < 1 || batchDims + tupleSize > static_cast<int64_t>(dataShape.size()))
    return node.emitError() << "index tuples of " << tupleSize << " components do not fit "
                            << "data of rank " << dataShape.size() << " after "
                            << batchDims << " batch dims";
  for (int64_t d = 0; d < batchDims; ++d)
    if (indexShape[d] != dataShape[d])
      return node.emitError() << "batch dim " << d << " of indices (" << indexShape[d]
                              << ") differs from data's (" << dataShape[d] << ")";
  OpBuilder &b = node.getBuilder();
  Type i64 = b.getI64Type();
  Value index = node.convert(*indices, i64);
  SmallVector<int64_t> starts(indexRank, 0), limits(indexShape), steps(indexRank, 1);
  // The row within one batch entry: sum of wrapped components times their strides.
  FailureOr<Value> row = failure();
  for (int64_t j = 0; j < tupleSize; ++j) {
    starts.back() = j;
    limits.back() = j + 1;
    int64_t dim = dataShape[batchDims + j];
    FailureOr<Value> component = node.slice(index, starts, limits, steps);
    if (failed(component))
      return failure();
    FailureOr<Value> normalized = node.wrapNegativeIndices(*component, dim);
    if (failed(normalized))
      return failure();
    if (j == 0) {
      row = normalized;
      continue;
    }
    FailureOr<Value> scaled = node.arithmetic<MulOp>(*row, node.scalar(i64, double(dim)));
    if (failed(scaled))
      return failure();
    row = node.arithmetic<AddOp>(*scaled, *normalized);
    if (failed(row))
      return failure();
  }
  int64_t rowsPerBatch = 1, batchEntries = 1;
  for (int64_t j = 0; j < tupleSize; ++j)
    rowsPerBatch *= dataShape[batchDims + j];
  for (int64_t d = 0; d < batchDims; ++d)
    batchEntries *= dataShape[d];
  // Batch entry e (row-major over the batch dims) owns rows [e * rowsPerBatch, ...).
  if (batchDims > 0) {
    SmallVector<int64_t> offsetShape(indexRank, 1);
    llvm::copy(indexShape.take_front(batchDims), offsetShape.begin());
    SmallVector<int64_t> offsets(batchEntries);
    for (int64_t e = 0; e < batchEntries; ++e)
      offsets[e] = e * rowsPerBatch;
    Value offset = node.constant(
        DenseElementsAttr::get(RankedTensorType::get(offsetShape, i64), ArrayRef(offsets)));
    row = node.arithmetic<AddOp>(*row, offset);
    if (failed(row))
      return failure();
  }
  FailureOr<Value> rows = node.reshape(*row, indexShape.drop_back());
  if (failed(rows))
    return failure();
  SmallVector<int64_t> tableShape{batchEntries * rowsPerBatch};
  llvm::append_range(tableShape, dataShape.drop_front(batchDims + tupleSize));
  FailureOr<Value> table = node.reshape(*data, tableShape);
  if (failed(table))
    return failure();
  return node.setResult(node.gather(*table, *rows, 0));
}

/// Tile(x, repeats) as a broadcast: x viewed as [1, d0, 1, d1, ...], broadcast to
/// [r0, d0, r1, d1, ...] and merged to [r0 * d0, r1 * d1, ...], so that element j of dim i
/// reads x's element j mod di.
static LogicalResult convertTile(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  FailureOr<SmallVector<int64_t>> repeats = node.constantInts(1, "repeats");
  if (failed(input) || failed(repeats))
    return failure();
  ArrayRef<int64_t> shape = NodeImporter::typeOf(*input).getShape();
  if (repeats->size() != shape.size())
    return node.emitError() << "has " << repeats->size() << " repeats for an input of rank "
                            << shape.size();
  SmallVector<int64_t> spread, wide, tiled;
  for (auto [dim, repeat] : llvm::zip(shape, *repeats)) {
    if (repeat < 0)
      return node.emitError() << "repeats must not be negative, got " << repeat;
    int64_t tiledDim;
    if (__builtin_mul_overflow(repeat, dim, &tiledDim) || tiledDim > kMaxTensorBytes)
      return node.emitError() << "repeats " << repeat << " of a dim of " << dim
                              << " make a tensor too large";
    spread.append({1, dim});
    wide.append({repeat, dim});
    tiled.push_back(tiledDim);
  }
  FailureOr<Value> viewed = node.reshape(*input, spread);
  if (failed(viewed))
    return failure();
  FailureOr<Value> broadcast = node.broadcastTo(*viewed, wide);
  if (failed(broadcast))
    return failure();
  return node.setResult(node.reshape(*broadcast, tiled));
}

/// OneHot(indices, depth, values = [off, on]) as a comparison with the class numbers:
/// select(equal(indices (negative ones wrapped by depth) with a dim of 1 at `axis`,
/// [0, depth) along `axis`), on, off). An index outside [-depth, depth) matches no class.
static LogicalResult convertOneHot(NodeImporter &node) {
  FailureOr<Value> indices = node.input(0);
  FailureOr<Value> values = node.input(2);
  if (failed(indices) || failed(values))
    return failure();
  std::optional<HostTensor> depthInput = node.constantInput(1);
  if (!depthInput || depthInput->size() != 1)
    return node.emitError() << "the depth input must be a constant scalar after folding "
                               "(parc compiles static shapes only)";
  int64_t depth = HostTensor::toInt(depthInput->getFloat(0));
  if (depth < 1)
    return node.emitError() << "depth must be positive, got " << depth;
  // The class numbers [0, depth) are a constant built here.
  if (depth > kMaxFoldedElements)
    return node.emitError() << "depth " << depth << " is too large (at most "
                            << kMaxFoldedElements << " classes)";
  auto valuesType = NodeImporter::typeOf(*values);
  if (valuesType.getNumElements() != 2)
    return node.emitError() << "values must hold [off, on], got "
                            << valuesType.getNumElements() << " elements";
  OpBuilder &b = node.getBuilder();
  Type i64 = b.getI64Type();
  Value index = node.convert(*indices, i64);
  ArrayRef<int64_t> indexShape = NodeImporter::typeOf(index).getShape();
  int64_t rank = indexShape.size() + 1;
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", -1), rank, "axis");
  if (failed(axis))
    return failure();
  // Negative indices count from the end: i + depth where i < 0.
  FailureOr<Value> normalized = node.wrapNegativeIndices(index, depth);
  if (failed(normalized))
    return failure();
  SmallVector<int64_t> indexView(indexShape), classShape(rank, 1);
  indexView.insert(indexView.begin() + *axis, 1);
  classShape[*axis] = depth;
  FailureOr<Value> viewed = node.reshape(*normalized, indexView);
  if (failed(viewed))
    return failure();
  SmallVector<int64_t> classes(depth);
  for (int64_t k = 0; k < depth; ++k)
    classes[k] = k;
  Value classValues = node.constant(
      DenseElementsAttr::get(RankedTensorType::get(classShape, i64), ArrayRef(classes)));
  FailureOr<Value> hot = node.compare<EqualOp>(*viewed, classValues);
  FailureOr<Value> flat = node.reshape(*values, {2});
  if (failed(hot) || failed(flat))
    return failure();
  FailureOr<Value> off = node.slice(*flat, {0}, {1}, {1});
  FailureOr<Value> on = node.slice(*flat, {1}, {2}, {1});
  if (failed(off) || failed(on))
    return failure();
  FailureOr<Value> offScalar = node.reshape(*off, {});
  FailureOr<Value> onScalar = node.reshape(*on, {});
  if (failed(offScalar) || failed(onScalar))
    return failure();
  return node.setResult(node.select(*hot, *onScalar, *offScalar));
}

static LogicalResult convertShape(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  ArrayRef<int64_t> shape = NodeImporter::typeOf(*input).getShape();
  int64_t rank = shape.size();
  auto clampIndex = [rank](int64_t index) {
    return std::clamp<int64_t>(index < 0 ? index + rank : index, 0, rank);
  };
  int64_t start = clampIndex(node.intAttr("start", 0));
  int64_t end = clampIndex(node.intAttr("end", rank));
  SmallVector<int64_t> dims(shape.begin() + start,
                            shape.begin() + std::max(start, end));
  auto type = RankedTensorType::get({static_cast<int64_t>(dims.size())},
                                    node.getBuilder().getI64Type());
  node.setOutput(0, node.constant(DenseElementsAttr::get(type, ArrayRef(dims))));
  return success();
}

static LogicalResult convertSize(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  node.setOutput(0, node.scalar(node.getBuilder().getI64Type(),
                              NodeImporter::typeOf(*input).getNumElements()));
  return success();
}

static LogicalResult convertConstantOfShape(NodeImporter &node) {
  FailureOr<SmallVector<int64_t>> shape = node.constantInts(0, "shape");
  if (failed(shape))
    return failure();
  DenseElementsAttr value;
  if (const onnx::TensorProto *tensor = node.tensorAttr("value")) {
    FailureOr<DenseElementsAttr> read = node.readTensorAttr(*tensor);
    if (failed(read))
      return failure();
    if (read->getNumElements() != 1)
      return node.emitError() << "value must hold one element";
    value = *read;
  } else {
    value = DenseElementsAttr::get(
        RankedTensorType::get({1}, node.getBuilder().getF32Type()), 0.0f);
  }
  for (int64_t dim : *shape)
    if (dim < 0)
      return node.emitError() << "shape [" << *shape << "] has a negative dim";
  auto type = RankedTensorType::get(*shape, value.getElementType());
  node.setOutput(0, node.constant(SplatElementsAttr::get(
                      type, value.getValues<Attribute>()[0])));
  return success();
}

static LogicalResult convertRange(NodeImporter &node) {
  std::optional<HostTensor> start = node.constantInput(0);
  std::optional<HostTensor> limit = node.constantInput(1);
  std::optional<HostTensor> delta = node.constantInput(2);
  if (failed(node.input(0)) || failed(node.input(1)) || failed(node.input(2)))
    return failure();
  if (!start || !limit || !delta)
    return node.emitError() << "start, limit and delta must be constants after "
                               "folding (parc compiles static shapes only)";
  if (start->size() != 1 || limit->size() != 1 || delta->size() != 1)
    return node.emitError() << "start, limit and delta must be scalars";
  double s = start->getFloat(0), l = limit->getFloat(0), d = delta->getFloat(0);
  if (d == 0)
    return node.emitError() << "delta is zero";
  double elements = std::ceil((l - s) / d);
  if (!(elements <= static_cast<double>(kMaxFoldedElements))) // also NaN
    return node.emitError() << "range of " << elements << " elements is too large";
  int64_t count = elements > 0 ? static_cast<int64_t>(elements) : 0; // -inf too
  HostTensor result(RankedTensorType::get({count}, start->getType().getElementType()));
  for (int64_t i = 0; i < count; ++i) {
    int64_t value;
    if (start->isFloat())
      result.setFloat(i, s + i * d);
    else if (__builtin_mul_overflow(i, delta->getInt(0), &value) ||
             __builtin_add_overflow(start->getInt(0), value, &value))
      return node.emitError() << "element " << i << " of the range overflows 64 bits";
    else
      result.setInt(i, value);
  }
  node.setOutput(0, node.constant(result.toAttr()));
  return success();
}

/// Trilu keeps the upper (or lower) triangle of the last two dims relative to diagonal k.
static LogicalResult convertTrilu(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  int64_t k = 0;
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> given = node.constantInts(1, "k");
    if (failed(given))
      return failure();
    k = given->empty() ? 0 : given->front();
  }
  auto type = NodeImporter::typeOf(*input);
  if (type.getRank() < 2)
    return node.emitError() << "needs rank >= 2";
  bool upper = node.intAttr("upper", 1) != 0;
  int64_t rows = type.getDimSize(type.getRank() - 2);
  int64_t cols = type.getDimSize(type.getRank() - 1);
  auto maskType = RankedTensorType::get({rows, cols}, node.getBuilder().getI1Type());
  if (!HostTensor::fits(maskType))
    return node.emitError() << "the " << rows << "x" << cols
                            << " triangle mask is too large to build at compile time";
  HostTensor mask(maskType);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      mask.setInt(i * cols + j, upper ? j - i >= k : j - i <= k);
  Value zero = node.scalar(type.getElementType(), 0);
  FailureOr<Value> result = node.select(node.constant(mask.toAttr()), *input, zero);
  return node.setResult(result);
}

static LogicalResult convertConstant(NodeImporter &node) {
  OpBuilder &b = node.getBuilder();
  if (const onnx::TensorProto *tensor = node.tensorAttr("value")) {
    FailureOr<DenseElementsAttr> value = node.readTensorAttr(*tensor);
    if (failed(value))
      return failure();
    node.setOutput(0, node.constant(*value));
    return success();
  }
  if (const onnx::AttributeProto *attr = node.findAttr("value_float")) {
    node.setOutput(0, node.constant(DenseElementsAttr::get(
                        RankedTensorType::get({}, b.getF32Type()), attr->f())));
    return success();
  }
  if (const onnx::AttributeProto *attr = node.findAttr("value_int")) {
    node.setOutput(0, node.constant(DenseElementsAttr::get(
                        RankedTensorType::get({}, b.getI64Type()),
                        static_cast<int64_t>(attr->i()))));
    return success();
  }
  if (const onnx::AttributeProto *attr = node.findAttr("value_floats")) {
    SmallVector<float> values(attr->floats().begin(), attr->floats().end());
    auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                      b.getF32Type());
    node.setOutput(0, node.constant(DenseElementsAttr::get(type, ArrayRef(values))));
    return success();
  }
  if (const onnx::AttributeProto *attr = node.findAttr("value_ints")) {
    SmallVector<int64_t> values(attr->ints().begin(), attr->ints().end());
    auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                      b.getI64Type());
    node.setOutput(0, node.constant(DenseElementsAttr::get(type, ArrayRef(values))));
    return success();
  }
  return node.emitError()
         << "only tensor, float(s) and int(s) values are supported";
}

static LogicalResult convertGatherElements(NodeImporter &node) {
  FailureOr<Value> input = node.input(0), indices = node.input(1);
  if (failed(input) || failed(indices))
    return failure();
  auto inputType = NodeImporter::typeOf(*input);
  auto indicesType = NodeImporter::typeOf(*indices);
  FailureOr<int64_t> axis =
      node.normalizeAxis(node.intAttr("axis", 0), inputType.getRank(), "axis");
  if (failed(axis))
    return failure();
  if (indicesType.getRank() != inputType.getRank())
    return node.emitError() << "data and indices must have the same rank";
  for (int64_t d = 0; d < inputType.getRank(); ++d)
    if (d != *axis && indicesType.getDimSize(d) > inputType.getDimSize(d))
      return node.emitError() << "indices are larger than data in dim " << d;
  OpBuilder &b = node.getBuilder();
  auto type = RankedTensorType::get(indicesType.getShape(), inputType.getElementType());
  node.setOutput(0, b.createOrFold<GatherElementsOp>(node.getLoc(), type, *input, *indices,
                                                   b.getI64IntegerAttr(*axis)));
  return success();
}

void mlir::parc::registerDataMovementConverters(
    llvm::StringMap<OpConverter> &converters) {
  converters["Reshape"] = convertReshape;
  converters["Flatten"] = convertFlatten;
  converters["Squeeze"] = convertSqueeze;
  converters["Unsqueeze"] = convertUnsqueeze;
  converters["Transpose"] = convertTranspose;
  converters["Concat"] = convertConcat;
  converters["Split"] = convertSplit;
  converters["Slice"] = convertSlice;
  converters["Gather"] = convertGather;
  converters["GatherElements"] = convertGatherElements;
  converters["GatherND"] = convertGatherND;
  converters["Expand"] = convertExpand;
  converters["Tile"] = convertTile;
  converters["OneHot"] = convertOneHot;
  converters["Shape"] = convertShape;
  converters["Size"] = convertSize;
  converters["ConstantOfShape"] = convertConstantOfShape;
  converters["Range"] = convertRange;
  converters["Trilu"] = convertTrilu;
  converters["Constant"] = convertConstant;
}
