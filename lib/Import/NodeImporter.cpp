//===- NodeImporter.cpp - converting one ONNX node ------------------------===//

#include "NodeImporter.h"
#include "GraphImporter.h"

#include "mlir/IR/Matchers.h"

#include "onnx/onnx_pb.h"

using namespace mlir;
using namespace mlir::parc;

NodeImporter::NodeImporter(GraphImporter &graph, const onnx::NodeProto &node,
                           Location loc, OpBuilder &builder)
    : graph(graph), node(node), loc(loc), builder(builder),
      errorCallback([this] { return emitError(); }) {}

int64_t NodeImporter::getOpset() const { return graph.getOpset(); }

InFlightDiagnostic NodeImporter::emitError() {
  InFlightDiagnostic diag = mlir::emitError(loc);
  if (!node.op_type().empty())
    diag << node.op_type() << ": ";
  return diag;
}

//===----------------------------------------------------------------------===//
// Inputs
//===----------------------------------------------------------------------===//

bool NodeImporter::hasInput(size_t i) const {
  return static_cast<int>(i) < node.input_size() && !node.input(i).empty();
}

FailureOr<Value> NodeImporter::input(size_t i) {
  if (!hasInput(i))
    return emitError() << "input " << i << " is required but not given";
  return graph.lookup(node.input(i), *this);
}

FailureOr<SmallVector<Value>> NodeImporter::inputs() {
  SmallVector<Value> result;
  for (int i = 0; i < node.input_size(); ++i) {
    if (!hasInput(i))
      continue;
    FailureOr<Value> value = input(i);
    if (failed(value))
      return failure();
    result.push_back(*value);
  }
  return result;
}

std::optional<HostTensor> NodeImporter::constantInput(size_t i) {
  if (!hasInput(i))
    return std::nullopt;
  FailureOr<Value> value = input(i);
  Attribute attr;
  if (failed(value) || !matchPattern(*value, m_Constant(&attr)))
    return std::nullopt;
  return HostTensor::fromAttr(attr);
}

FailureOr<SmallVector<int64_t>> NodeImporter::constantInts(size_t i,
                                                           StringRef what) {
  if (failed(input(i)))
    return failure();
  std::optional<HostTensor> constant = constantInput(i);
  if (!constant || constant->isFloat())
    return emitError() << "the " << what
                       << " input must be a constant integer tensor after "
                          "folding (parc compiles static shapes only)";
  SmallVector<int64_t> values;
  for (int64_t k = 0; k < constant->size(); ++k)
    values.push_back(constant->getInt(k));
  return values;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeImporter::findAttr(StringRef name) const {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

int64_t NodeImporter::intAttr(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->i() : defaultValue;
}

float NodeImporter::floatAttr(StringRef name, float defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->f() : defaultValue;
}

std::string NodeImporter::stringAttr(StringRef name,
                                     StringRef defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->s() : defaultValue.str();
}

std::optional<SmallVector<int64_t>>
NodeImporter::intsAttr(StringRef name) const {
  const onnx::AttributeProto *attr = findAttr(name);
  if (!attr)
    return std::nullopt;
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

const onnx::TensorProto *NodeImporter::tensorAttr(StringRef name) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr && attr->has_t() ? &attr->t() : nullptr;
}

FailureOr<DenseElementsAttr>
NodeImporter::readTensorAttr(const onnx::TensorProto &tensor) {
  std::string reason;
  FailureOr<DenseElementsAttr> value =
      graph.getTensorReader().readDense(tensor, reason);
  if (failed(value))
    return emitError() << "tensor attribute: " << reason;
  return value;
}

//===----------------------------------------------------------------------===//
// Outputs
//===----------------------------------------------------------------------===//

void NodeImporter::setOutput(size_t i, Value value) {
  if (static_cast<int>(i) < node.output_size() && !node.output(i).empty())
    graph.define(node.output(i), value);
}

size_t NodeImporter::numOutputs() const { return node.output_size(); }

//===----------------------------------------------------------------------===//
// Typed builders
//===----------------------------------------------------------------------===//

FailureOr<int64_t> NodeImporter::normalizeAxis(int64_t axis, int64_t rank,
                                               StringRef what) {
  if (axis < -rank || axis >= rank || (rank == 0 && axis != 0))
    return emitError() << what << " " << axis << " is out of range for rank "
                       << rank;
  return axis < 0 ? axis + rank : axis;
}

Value NodeImporter::constant(DenseElementsAttr value) {
  return ConstantOp::create(builder, loc, value.getType(), value);
}

Value NodeImporter::scalar(Type elementType, double value) {
  HostTensor tensor(RankedTensorType::get({}, elementType));
  tensor.setFloat(0, value);
  return constant(tensor.toAttr());
}

FailureOr<RankedTensorType>
NodeImporter::broadcastType(Value lhs, Value rhs, Type elementType) {
  Type lhsElement = typeOf(lhs).getElementType();
  Type rhsElement = typeOf(rhs).getElementType();
  if (lhsElement != rhsElement)
    return emitError() << "operands have different element types "
                       << lhsElement << " and " << rhsElement;
  FailureOr<SmallVector<int64_t>> shape = inferBroadcastShape(
      {typeOf(lhs).getShape(), typeOf(rhs).getShape()}, errorEmitter());
  if (failed(shape))
    return failure();
  return RankedTensorType::get(*shape, elementType);
}

FailureOr<Value> NodeImporter::select(Value condition, Value onTrue,
                                      Value onFalse) {
  if (!typeOf(condition).getElementType().isInteger(1))
    return emitError() << "the condition must be bool";
  if (typeOf(onTrue).getElementType() != typeOf(onFalse).getElementType())
    return emitError() << "the two branches have different element types "
                       << typeOf(onTrue).getElementType() << " and "
                       << typeOf(onFalse).getElementType();
  FailureOr<SmallVector<int64_t>> shape = inferBroadcastShape(
      {typeOf(condition).getShape(), typeOf(onTrue).getShape(),
       typeOf(onFalse).getShape()},
      errorEmitter());
  if (failed(shape))
    return failure();
  auto type = RankedTensorType::get(*shape, typeOf(onTrue).getElementType());
  return builder.createOrFold<SelectOp>(loc, type, condition, onTrue, onFalse);
}

FailureOr<Value> NodeImporter::wrapNegativeIndices(Value index, int64_t size) {
  Type element = typeOf(index).getElementType();
  FailureOr<Value> negative = compare<LessOp>(index, scalar(element, 0));
  FailureOr<Value> wrapped = arithmetic<AddOp>(index, scalar(element, double(size)));
  if (failed(negative) || failed(wrapped))
    return failure();
  return select(*negative, *wrapped, index);
}

Value NodeImporter::convert(Value input, Type elementType) {
  auto type = RankedTensorType::get(typeOf(input).getShape(), elementType);
  return builder.createOrFold<ConvertOp>(loc, type, input);
}

FailureOr<Value> NodeImporter::matmul(Value lhs, Value rhs) {
  FailureOr<RankedTensorType> type =
      inferMatMulType(typeOf(lhs), typeOf(rhs), errorEmitter());
  if (failed(type))
    return failure();
  return MatMulOp::create(builder, loc, *type, lhs, rhs).getResult();
}

FailureOr<Value> NodeImporter::reshape(Value input, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(input).getElementType());
  if (type.getNumElements() != typeOf(input).getNumElements())
    return emitError() << "cannot reshape " << formatShape(typeOf(input).getShape())
                       << " into " << formatShape(shape);
  return builder.createOrFold<ReshapeOp>(loc, type, input);
}

FailureOr<Value> NodeImporter::transpose(Value input,
                                         ArrayRef<int64_t> permutation) {
  FailureOr<RankedTensorType> type =
      inferTransposeType(typeOf(input), permutation, errorEmitter());
  if (failed(type))
    return failure();
  return builder.createOrFold<TransposeOp>(
      loc, *type, input, builder.getDenseI64ArrayAttr(permutation));
}

FailureOr<Value> NodeImporter::concat(ValueRange inputs, int64_t axis) {
  SmallVector<RankedTensorType> types;
  for (Value input : inputs)
    types.push_back(typeOf(input));
  FailureOr<RankedTensorType> type = inferConcatType(types, axis, errorEmitter());
  if (failed(type))
    return failure();
  return builder.createOrFold<ConcatOp>(loc, *type, inputs,
                                        builder.getI64IntegerAttr(axis));
}

FailureOr<Value> NodeImporter::slice(Value input, ArrayRef<int64_t> starts,
                                     ArrayRef<int64_t> limits,
                                     ArrayRef<int64_t> strides) {
  FailureOr<RankedTensorType> type =
      inferSliceType(typeOf(input), starts, limits, strides, errorEmitter());
  if (failed(type))
    return failure();
  return builder.createOrFold<SliceOp>(
      loc, *type, input, builder.getDenseI64ArrayAttr(starts),
      builder.getDenseI64ArrayAttr(limits), builder.getDenseI64ArrayAttr(strides));
}

FailureOr<Value> NodeImporter::gather(Value input, Value indices, int64_t axis) {
  if (!typeOf(indices).getElementType().isInteger(64) &&
      !typeOf(indices).getElementType().isInteger(32))
    return emitError() << "indices must be int64 or int32";
  FailureOr<RankedTensorType> type =
      inferGatherType(typeOf(input), typeOf(indices), axis, errorEmitter());
  if (failed(type))
    return failure();
  return builder.createOrFold<GatherOp>(loc, *type, input, indices,
                                        builder.getI64IntegerAttr(axis));
}

FailureOr<Value> NodeImporter::broadcastTo(Value input, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(input).getElementType());
  return builder.createOrFold<BroadcastToOp>(loc, type, input);
}
