//===- NodeImporter.h - converting one ONNX node ----------------*- C++ -*-===//
//
// The interface between the graph walk and the per-operator converters. A converter receives
// a NodeImporter for one ONNX node: it reads the node's inputs and attributes, builds parc ops
// through the typed helpers (which infer result types, fold constants and report problems at
// the node's location) and sets the node's outputs.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_IMPORT_NODEIMPORTER_H
#define PARC_LIB_IMPORT_NODEIMPORTER_H

#include "parc/Dialect/Parc/IR/HostTensor.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Dialect/Parc/IR/ParcShapeInference.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <functional>

namespace onnx {
class AttributeProto;
class NodeProto;
class TensorProto;
} // namespace onnx

namespace mlir::parc {

class GraphImporter;

/// Builds parc ops for one ONNX node and reports errors at the node's location.
class NodeImporter {
public:
  NodeImporter(GraphImporter &graph, const onnx::NodeProto &node,
               Location loc, OpBuilder &builder);

  const onnx::NodeProto &getNode() const { return node; }
  Location getLoc() const { return loc; }
  OpBuilder &getBuilder() { return builder; }
  MLIRContext *getContext() { return builder.getContext(); }
  /// The opset of the default ONNX domain that the model imports.
  int64_t getOpset() const;

  /// An error at this node, prefixed with the node's operator type.
  InFlightDiagnostic emitError();

  //===--- Inputs -------------------------------------------------------===//
  /// True when input `i` is given (present and not the empty name).
  bool hasInput(size_t i) const;
  /// The value of input `i`; an error when it is not given.
  FailureOr<Value> input(size_t i);
  /// All given inputs, for variadic operators.
  FailureOr<SmallVector<Value>> inputs();
  /// The integers of input `i`, which must fold to a constant. `what` names the input.
  FailureOr<SmallVector<int64_t>> constantInts(size_t i, StringRef what);
  /// The constant value of input `i`, if it folded to one.
  std::optional<HostTensor> constantInput(size_t i);

  //===--- Attributes ---------------------------------------------------===//
  const onnx::AttributeProto *findAttr(StringRef name) const;
  int64_t intAttr(StringRef name, int64_t defaultValue) const;
  float floatAttr(StringRef name, float defaultValue) const;
  std::string stringAttr(StringRef name, StringRef defaultValue) const;
  std::optional<SmallVector<int64_t>> intsAttr(StringRef name) const;
  const onnx::TensorProto *tensorAttr(StringRef name) const;
  /// Converts an attribute tensor (Constant's value, ConstantOfShape's value) to a literal.
  FailureOr<DenseElementsAttr> readTensorAttr(const onnx::TensorProto &tensor);

  //===--- Outputs ------------------------------------------------------===//
  /// Binds output `i` of the node to `value`.
  void setOutput(size_t i, Value value);
  /// Binds output 0 to `value`, or passes its failure on (already reported).
  LogicalResult setResult(FailureOr<Value> value) {
    if (failed(value))
      return failure();
    setOutput(0, *value);
    return success();
  }
  /// Number of outputs the node declares.
  size_t numOutputs() const;

  //===--- Typed builders (infer types, fold, report at the node) --------===//
  static RankedTensorType typeOf(Value v) {
    return cast<RankedTensorType>(v.getType());
  }
  /// An axis attribute in [-rank, rank) made non-negative, or an error.
  FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank, StringRef what);

  Value constant(DenseElementsAttr value);
  /// A scalar (rank 0) constant of `elementType`.
  Value scalar(Type elementType, double value);

  template <typename OpTy>
  FailureOr<Value> arithmetic(Value lhs, Value rhs,
                              ArrayRef<NamedAttribute> attributes);
  template <typename OpTy>
  FailureOr<Value> arithmetic(Value lhs, Value rhs) {
    return arithmetic<OpTy>(lhs, rhs, ArrayRef<NamedAttribute>());
  }
  template <typename OpTy>
  FailureOr<Value> compare(Value lhs, Value rhs);
  template <typename OpTy>
  Value unary(Value input) {
    return builder.createOrFold<OpTy>(loc, input.getType(), input);
  }
  FailureOr<Value> select(Value condition, Value onTrue, Value onFalse);
  /// Integer indices along a dim of `size` with the negative ones counted from the end:
  /// select(index < 0, index + size, index).
  FailureOr<Value> wrapNegativeIndices(Value index, int64_t size);
  Value convert(Value input, Type elementType);
  FailureOr<Value> matmul(Value lhs, Value rhs);
  FailureOr<Value> reshape(Value input, ArrayRef<int64_t> shape);
  FailureOr<Value> transpose(Value input, ArrayRef<int64_t> permutation);
  FailureOr<Value> concat(ValueRange inputs, int64_t axis);
  FailureOr<Value> slice(Value input, ArrayRef<int64_t> starts,
                         ArrayRef<int64_t> limits, ArrayRef<int64_t> strides);
  FailureOr<Value> gather(Value input, Value indices, int64_t axis);
  FailureOr<Value> broadcastTo(Value input, ArrayRef<int64_t> shape);
  template <typename OpTy>
  FailureOr<Value> reduce(Value input, ArrayRef<int64_t> axes, bool keepDims);

private:
  /// Reports at this node; the callable outlives every ErrorEmitter made from it.
  ErrorEmitter errorEmitter() { return errorCallback; }
  FailureOr<RankedTensorType> broadcastType(Value lhs, Value rhs,
                                            Type elementType);

  GraphImporter &graph;
  const onnx::NodeProto &node;
  Location loc;
  OpBuilder &builder;
  std::function<InFlightDiagnostic()> errorCallback;
};

template <typename OpTy>
FailureOr<Value> NodeImporter::arithmetic(Value lhs, Value rhs,
                                          ArrayRef<NamedAttribute> attributes) {
  FailureOr<RankedTensorType> type =
      broadcastType(lhs, rhs, typeOf(lhs).getElementType());
  if (failed(type))
    return failure();
  return builder.createOrFold<OpTy>(loc, TypeRange{*type}, ValueRange{lhs, rhs},
                                    attributes);
}

template <typename OpTy>
FailureOr<Value> NodeImporter::compare(Value lhs, Value rhs) {
  FailureOr<RankedTensorType> type =
      broadcastType(lhs, rhs, builder.getI1Type());
  if (failed(type))
    return failure();
  return builder.createOrFold<OpTy>(loc, *type, lhs, rhs);
}

template <typename OpTy>
FailureOr<Value> NodeImporter::reduce(Value input, ArrayRef<int64_t> axes,
                                      bool keepDims) {
  FailureOr<RankedTensorType> type =
      inferReduceType(typeOf(input), axes, keepDims, errorEmitter());
  if (failed(type))
    return failure();
  return builder.createOrFold<OpTy>(loc, *type, input,
                                    builder.getDenseI64ArrayAttr(axes),
                                    keepDims ? builder.getUnitAttr() : UnitAttr());
}

/// Converts one ONNX node; returns failure after reporting the problem.
using OpConverter = std::function<LogicalResult(NodeImporter &)>;

/// Adds the converters of elementwise, reduction and normalization operators.
void registerMathConverters(llvm::StringMap<OpConverter> &converters);
/// Adds the converters of shape, indexing and data-movement operators.
void registerDataMovementConverters(llvm::StringMap<OpConverter> &converters);
/// Adds the converters of the contractions lowered to matmuls (Conv, Einsum).
void registerContractionConverters(llvm::StringMap<OpConverter> &converters);

} // namespace mlir::parc

#endif // PARC_LIB_IMPORT_NODEIMPORTER_H
