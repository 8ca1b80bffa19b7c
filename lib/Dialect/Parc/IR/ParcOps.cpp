//===- ParcOps.cpp - parc dialect operation verifiers ---------------------===//
//
// Verifiers of the parc operations. Shape rules come from ParcShapeInference so that the
// importer and the verifiers agree; folders live in ParcFolders.cpp.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Dialect/Parc/IR/ParcShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace mlir::parc;

/// Checks that an op's declared result type equals the inferred one.
static LogicalResult verifyResultType(Operation *op,
                                      FailureOr<RankedTensorType> inferred) {
  if (failed(inferred))
    return failure();
  Type actual = op->getResult(0).getType();
  if (actual != *inferred)
    return op->emitOpError("result type ")
           << actual << " does not match the expected " << *inferred;
  return success();
}

static RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

LogicalResult mlir::parc::verifyBroadcastingOp(Operation *op) {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value operand : op->getOperands())
    shapes.push_back(tensorTypeOf(operand).getShape());
  FailureOr<SmallVector<int64_t>> shape =
      inferBroadcastShape(shapes, [&] { return op->emitOpError(); });
  if (failed(shape))
    return failure();
  ArrayRef<int64_t> actual = tensorTypeOf(op->getResult(0)).getShape();
  if (actual != ArrayRef<int64_t>(*shape))
    return op->emitOpError("result shape ")
           << formatShape(actual) << " is not the broadcast shape "
           << formatShape(*shape);
  return success();
}

LogicalResult mlir::parc::verifyReduceOp(Operation *op, ArrayRef<int64_t> axes,
                                         bool keepDims) {
  return verifyResultType(
      op, inferReduceType(tensorTypeOf(op->getOperand(0)), axes, keepDims,
                          [&] { return op->emitOpError(); }));
}

LogicalResult WeightOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getValue().getType());
  if (!type || !type.hasStaticShape())
    return emitOpError("needs a statically shaped tensor value");
  Type element = type.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16() &&
      !element.isInteger(64) && !element.isInteger(32) && !element.isInteger(1))
    return emitOpError("element type ") << element << " is not supported";
  return success();
}

LogicalResult
LoadWeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto weight =
      symbolTable.lookupNearestSymbolFrom<WeightOp>(*this, getNameAttr());
  if (!weight)
    return emitOpError("refers to ") << getNameAttr() << ", which is no parc.weight";
  if (weight.getType() != getType())
    return emitOpError("result type ")
           << getType() << " differs from the weight's type "
           << weight.getType();
  return success();
}

LogicalResult SelectOp::verify() { return verifyBroadcastingOp(*this); }

LogicalResult MatMulOp::verify() {
  return verifyResultType(*this, inferMatMulType(tensorTypeOf(getLhs()),
                                                 tensorTypeOf(getRhs()), [&] {
                                                   return emitOpError();
                                                 }));
}

LogicalResult ReshapeOp::verify() {
  int64_t in = tensorTypeOf(getInput()).getNumElements();
  int64_t out = getType().getNumElements();
  if (in != out)
    return emitOpError("cannot reshape ")
           << in << " elements into " << formatShape(getType().getShape())
           << " (" << out << " elements)";
  return success();
}

LogicalResult TransposeOp::verify() {
  return verifyResultType(*this,
                          inferTransposeType(tensorTypeOf(getInput()),
                                             getPermutation(),
                                             [&] { return emitOpError(); }));
}

LogicalResult ConcatOp::verify() {
  SmallVector<RankedTensorType> types;
  for (Value input : getInputs())
    types.push_back(tensorTypeOf(input));
  return verifyResultType(
      *this, inferConcatType(types, getAxis(), [&] { return emitOpError(); }));
}

LogicalResult SliceOp::verify() {
  return verifyResultType(
      *this, inferSliceType(tensorTypeOf(getInput()), getStartIndices(),
                            getLimitIndices(), getStrides(),
                            [&] { return emitOpError(); }));
}

LogicalResult GatherOp::verify() {
  return verifyResultType(*this,
                          inferGatherType(tensorTypeOf(getInput()),
                                          tensorTypeOf(getIndices()), getAxis(),
                                          [&] { return emitOpError(); }));
}

LogicalResult GatherElementsOp::verify() {
  auto input = tensorTypeOf(getInput());
  auto indices = tensorTypeOf(getIndices());
  if (getAxis() < 0 || getAxis() >= input.getRank())
    return emitOpError("axis ") << getAxis() << " is out of range for rank "
                                << input.getRank();
  if (indices.getRank() != input.getRank())
    return emitOpError("indices must have the input's rank");
  for (int64_t d = 0; d < input.getRank(); ++d)
    if (d != getAxis() && indices.getDimSize(d) > input.getDimSize(d))
      return emitOpError("indices are larger than the input in dim ") << d;
  if (getType().getShape() != indices.getShape() ||
      getType().getElementType() != input.getElementType())
    return emitOpError("result must have the indices' shape and the input's element type");
  return success();
}

LogicalResult BroadcastToOp::verify() {
  ArrayRef<int64_t> in = tensorTypeOf(getInput()).getShape();
  ArrayRef<int64_t> out = getType().getShape();
  FailureOr<SmallVector<int64_t>> shape =
      inferBroadcastShape({in, out}, [&] { return emitOpError(); });
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) != out)
    return emitOpError("cannot broadcast ")
           << formatShape(in) << " to " << formatShape(out);
  return success();
}

#define GET_OP_CLASSES
#include "parc/Dialect/Parc/IR/ParcOps.cpp.inc"
