//===- ParcOps.cpp - parc dialect operation verifiers ---------------------===//
//
// Verifiers of the parc operations. Shape rules come from ParcShapeInference so that the
// importer and the verifiers agree; folders live in ParcFolders.cpp.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/GradientBuilder.h"
#include "parc/Dialect/Parc/IR/HostTensor.h"
#include "parc/Dialect/Parc/IR/ShardingRules.h"
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

/// Checks that a collective names a mesh axis and that `resultDim` = `inputDim` x size
/// (or /, for `shrinks`) along `axis`.
static LogicalResult verifyCollective(Operation *op, StringRef group,
                                      std::optional<int64_t> axis, bool shrinks) {
  // "microbatch" names the microbatches of one pipeline schedule (an all-reduce over them
  // is the sum parc-build-pipeline accumulates).
  if (group != "tp" && group != "dp" && group != "pp" && group != "microbatch")
    return op->emitOpError("group '")
           << group << "' is not a mesh axis (tp, dp, pp) or the microbatch axis";
  if (!axis)
    return success();
  auto input = cast<RankedTensorType>(op->getOperand(0).getType());
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  if (*axis < 0 || *axis >= input.getRank() || input.getRank() != result.getRank())
    return op->emitOpError("axis ") << *axis << " is out of range";
  std::optional<int64_t> ranks = getMeshAxisSize(op, group);
  for (int64_t d = 0; d < input.getRank(); ++d) {
    int64_t in = input.getDimSize(d), out = result.getDimSize(d);
    bool ok = d != *axis ? in == out
              : !ranks   ? true
              : shrinks  ? in == out * *ranks
                         : out == in * *ranks;
    if (!ok)
      return op->emitOpError("result shape ")
             << formatShape(result.getShape()) << " does not match input "
             << formatShape(input.getShape()) << " over " << (ranks ? *ranks : 0)
             << " ranks along axis " << *axis;
  }
  return success();
}

LogicalResult AllReduceOp::verify() {
  return verifyCollective(*this, getGroup(), std::nullopt, false);
}
LogicalResult AllGatherOp::verify() {
  return verifyCollective(*this, getGroup(), getAxis(), /*shrinks=*/false);
}
LogicalResult ReduceScatterOp::verify() {
  return verifyCollective(*this, getGroup(), getAxis(), /*shrinks=*/true);
}
LogicalResult ShardSliceOp::verify() {
  if (getGroups() < 1)
    return emitOpError("groups must be >= 1");
  // A microbatch's rows of a whole value (see parc-split-microbatches): the number of
  // microbatches is @main's, not a mesh axis.
  if (getGroup() == "microbatch")
    return success();
  return verifyCollective(*this, getGroup(), getAxis(), /*shrinks=*/true);
}

LogicalResult ScatterAddOp::verify() {
  auto updates = cast<RankedTensorType>(getUpdates().getType());
  auto indices = cast<RankedTensorType>(getIndices().getType());
  RankedTensorType result = getType();
  int64_t axis = getAxis();
  if (updates.getElementType() != result.getElementType())
    return emitOpError("updates and result must have the same element type");
  if (axis < 0 || axis >= result.getRank())
    return emitOpError("axis ") << axis << " is out of range for rank " << result.getRank();
  SmallVector<int64_t> expected(result.getShape().take_front(axis));
  llvm::append_range(expected, indices.getShape());
  llvm::append_range(expected, result.getShape().drop_front(axis + 1));
  if (updates.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("updates shape ")
           << formatShape(updates.getShape()) << " is not what gathering "
           << formatShape(indices.getShape()) << " indices from the result gives ("
           << formatShape(expected) << ")";
  return success();
}

LogicalResult RecvWaitOp::verify() {
  if (!getRecv())
    return emitOpError("waits on a buffer that no parc.recv started");
  return success();
}

LogicalResult FusedOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body takes ") << body.getNumArguments() << " arguments for "
                                      << getInputs().size() << " inputs";
  for (auto [argument, input] : llvm::zip(body.getArguments(), getInputs()))
    if (argument.getType() != input.getType())
      return emitOpError("body argument type ") << argument.getType()
                                                << " differs from its input's " << input.getType();
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield || yield.getValues().getTypes() != getResultTypes())
    return emitOpError("body must yield values of the result types");
  if (getKind() != "elementwise" && getKind() != "row" && getKind() != "gemm")
    return emitOpError("kind '") << getKind() << "' is not elementwise, row or gemm";
  return success();
}

LogicalResult AllReduceWaitOp::verify() {
  auto start = getBuffer().getDefiningOp<AllReduceStartOp>();
  if (!start)
    return emitOpError("waits on a buffer that no parc.all_reduce_start started");
  if (start.getGroup() != getGroup() || start.getTag() != getTag())
    return emitOpError("group and tag differ from its parc.all_reduce_start's");
  return success();
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

int64_t mlir::parc::getElementStorageBytes(Type element) {
  return element.isInteger(1) ? 1 : element.getIntOrFloatBitWidth() / 8;
}

int64_t mlir::parc::getStorageBytes(RankedTensorType type) {
  return type.getNumElements() * getElementStorageBytes(type.getElementType());
}

std::optional<int64_t> mlir::parc::getMeshAxisSize(Operation *op,
                                                   StringRef axis) {
  auto module = dyn_cast<ModuleOp>(op);
  if (!module)
    module = op->getParentOfType<ModuleOp>();
  if (!module)
    return std::nullopt;
  auto mesh = module->getAttrOfType<DictionaryAttr>(kMeshAttr);
  if (!mesh)
    return std::nullopt;
  auto size = mesh.getAs<IntegerAttr>(axis);
  if (!size)
    return std::nullopt;
  return size.getInt();
}

LogicalResult
LoadWeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto weight =
      symbolTable.lookupNearestSymbolFrom<WeightOp>(*this, getNameAttr());
  if (!weight)
    return emitOpError("refers to ") << getNameAttr() << ", which is no parc.weight";
  RankedTensorType expected = weight.getType();
  if (ShardingAttr sharding = weight.getShardingAttr()) {
    std::optional<int64_t> ranks = getMeshAxisSize(*this, "tp");
    if (!ranks)
      return emitOpError("loads a sharded weight in a module without parc.mesh");
    expected = RankedTensorType::get(
        sharding.getLocalShape(expected.getShape(), *ranks),
        expected.getElementType());
  }
  if (weight->hasAttr(kDataParallelSplitAttr)) {
    // ZeRO-1's state: each dp rank loads its part of dim 0.
    std::optional<int64_t> ranks = getMeshAxisSize(*this, "dp");
    SmallVector<int64_t> shape(expected.getShape());
    if (ranks && !shape.empty() && shape[0] % *ranks == 0)
      shape[0] /= *ranks;
    expected = RankedTensorType::get(shape, expected.getElementType());
  }
  if (expected != getType())
    return emitOpError("result type ")
           << getType() << " differs from the weight's type " << expected;
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

static LogicalResult verifyCollective(Operation *op, StringRef group,
                                      std::optional<int64_t> axis, bool shrinks);

LogicalResult ShardGatherOp::verify() {
  if (failed(verifyCollective(*this, getGroup(), std::nullopt, false)))
    return failure();
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
