//===- ImportMath.cpp - elementwise, reduction and normalization ops ------===//
//
// Converters of ONNX operators that compute: elementwise arithmetic and comparisons, unary
// functions, matrix products (Gemm becomes matmul, scale and add), reductions, softmax and
// LayerNormalization (decomposed into reductions and elementwise ops).
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"
#include "OnnxTensors.h"

#include "onnx/onnx_pb.h"

using namespace mlir;
using namespace mlir::parc;

namespace {
using BinaryBuilder = FailureOr<Value> (NodeImporter::*)(Value, Value);
} // namespace

/// A converter for a two-input broadcasting operator.
static OpConverter binary(BinaryBuilder build) {
  return [build](NodeImporter &node) -> LogicalResult {
    FailureOr<Value> lhs = node.input(0), rhs = node.input(1);
    if (failed(lhs) || failed(rhs))
      return failure();
    FailureOr<Value> result = (node.*build)(*lhs, *rhs);
    return node.setResult(result);
  };
}

/// A converter for an operator folding any number of inputs with a binary op (Max, Min, Sum).
static OpConverter variadic(BinaryBuilder build) {
  return [build](NodeImporter &node) -> LogicalResult {
    FailureOr<SmallVector<Value>> inputs = node.inputs();
    if (failed(inputs))
      return failure();
    if (inputs->empty())
      return node.emitError() << "needs at least one input";
    Value result = inputs->front();
    for (Value next : llvm::drop_begin(*inputs)) {
      FailureOr<Value> combined = (node.*build)(result, next);
      if (failed(combined))
        return failure();
      result = *combined;
    }
    node.setOutput(0, result);
    return success();
  };
}

/// A converter for a one-input elementwise operator restricted to some element types.
template <typename OpTy>
static OpConverter unary(bool floatOnly) {
  return [floatOnly](NodeImporter &node) -> LogicalResult {
    FailureOr<Value> input = node.input(0);
    if (failed(input))
      return failure();
    Type element = NodeImporter::typeOf(*input).getElementType();
    if (floatOnly && !isa<FloatType>(element))
      return node.emitError() << "needs a floating-point input, got " << element;
    if (!floatOnly && element.isInteger(1))
      return node.emitError() << "needs a numeric input, got bool";
    node.setOutput(0, node.unary<OpTy>(*input));
    return success();
  };
}

static LogicalResult convertNot(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  if (!NodeImporter::typeOf(*input).getElementType().isInteger(1))
    return node.emitError() << "needs a bool input";
  node.setOutput(0, node.unary<NotOp>(*input));
  return success();
}

/// IsNaN: x != x, the one value not equal to itself (parc's Equal compares as IEEE 754
/// does, folded constants too). The dynamo exporter's scaled-dot-product attention uses
/// it to zero the rows a mask removed entirely.
static LogicalResult convertIsNaN(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  if (!isa<FloatType>(NodeImporter::typeOf(*input).getElementType()))
    return node.emitError() << "needs a floating-point input";
  FailureOr<Value> equal = node.compare<EqualOp>(*input, *input);
  if (failed(equal))
    return failure();
  node.setOutput(0, node.unary<NotOp>(*equal));
  return success();
}

static LogicalResult convertPow(NodeImporter &node) {
  FailureOr<Value> base = node.input(0), exponent = node.input(1);
  if (failed(base) || failed(exponent))
    return failure();
  // ONNX lets the exponent have its own type; parc computes in the base's type.
  Type element = NodeImporter::typeOf(*base).getElementType();
  Value converted = node.convert(*exponent, element);
  FailureOr<Value> result = node.arithmetic<PowOp>(*base, converted);
  return node.setResult(result);
}

/// Mod: the remainder with the divisor's sign, or with fmod=1 the dividend's.
static LogicalResult convertMod(NodeImporter &node) {
  FailureOr<Value> lhs = node.input(0), rhs = node.input(1);
  if (failed(lhs) || failed(rhs))
    return failure();
  SmallVector<NamedAttribute> attributes;
  if (node.intAttr("fmod", 0))
    attributes.push_back(node.getBuilder().getNamedAttr(
        "fmod", node.getBuilder().getUnitAttr()));
  FailureOr<Value> result = node.arithmetic<ModOp>(*lhs, *rhs, attributes);
  return node.setResult(result);
}

static LogicalResult convertLessOrEqual(NodeImporter &node, bool less) {
  FailureOr<Value> lhs = node.input(0), rhs = node.input(1);
  if (failed(lhs) || failed(rhs))
    return failure();
  FailureOr<Value> strict = less ? node.compare<LessOp>(*lhs, *rhs)
                                 : node.compare<GreaterOp>(*lhs, *rhs);
  FailureOr<Value> equal = node.compare<EqualOp>(*lhs, *rhs);
  if (failed(strict) || failed(equal))
    return failure();
  FailureOr<Value> result = node.compare<OrOp>(*strict, *equal);
  return node.setResult(result);
}

static LogicalResult convertGelu(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  std::string approximate = node.stringAttr("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return node.emitError() << "unknown approximate='" << approximate << "'";
  if (!isa<FloatType>(NodeImporter::typeOf(*input).getElementType()))
    return node.emitError() << "needs a floating-point input";
  OpBuilder &b = node.getBuilder();
  Value result = b.createOrFold<GeluOp>(
      node.getLoc(), input->getType(), *input,
      approximate == "tanh" ? b.getUnitAttr() : UnitAttr());
  node.setOutput(0, result);
  return success();
}

/// The normalized `axis` attribute (default -1) of a node whose input, of type `type`,
/// must be floating point (Softmax, LogSoftmax, LayerNormalization).
static FailureOr<int64_t> floatInputAxis(NodeImporter &node, RankedTensorType type) {
  if (!isa<FloatType>(type.getElementType()))
    return node.emitError() << "needs a floating-point input";
  return node.normalizeAxis(node.intAttr("axis", -1), type.getRank(), "axis");
}

template <typename OpTy>
static LogicalResult convertSoftmax(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  FailureOr<int64_t> axis = floatInputAxis(node, type);
  if (failed(axis))
    return failure();
  OpBuilder &b = node.getBuilder();
  node.setOutput(0, OpTy::create(b, node.getLoc(), type, *input,
                                 b.getI64IntegerAttr(*axis)));
  return success();
}

/// CumSum(x, axis) with `exclusive` and `reverse` as parc.cumsum, the inclusive running sum:
/// exclusive is the running sum minus x; reverse is the axis' total minus the running sum,
/// plus x unless exclusive.
static LogicalResult convertCumSum(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  FailureOr<SmallVector<int64_t>> axes = node.constantInts(1, "axis");
  if (failed(axes))
    return failure();
  if (axes->size() != 1)
    return node.emitError() << "needs one axis, got " << axes->size();
  FailureOr<int64_t> axis = node.normalizeAxis(axes->front(), type.getRank(), "axis");
  if (failed(axis))
    return failure();
  OpBuilder &b = node.getBuilder();
  Value running = b.createOrFold<CumSumOp>(node.getLoc(), type, *input,
                                           b.getI64IntegerAttr(*axis));
  bool exclusive = node.intAttr("exclusive", 0) != 0;
  if (node.intAttr("reverse", 0) == 0)
    return node.setResult(exclusive ? node.arithmetic<SubOp>(running, *input)
                                    : FailureOr<Value>(running));
  FailureOr<Value> total = node.reduce<ReduceSumOp>(*input, {*axis}, /*keepDims=*/true);
  if (failed(total))
    return failure();
  FailureOr<Value> after = node.arithmetic<SubOp>(*total, running);
  if (failed(after) || exclusive)
    return node.setResult(after);
  return node.setResult(node.arithmetic<AddOp>(*after, *input));
}

/// TopK(x, K) -> (values, indices): parc.top_k's positions, and the values gathered at
/// them (so the values' gradient is gather_elements'). `sorted = 0` allows any order; the
/// sorted one is among them.
static LogicalResult convertTopK(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  FailureOr<SmallVector<int64_t>> count = node.constantInts(1, "K");
  if (failed(input) || failed(count))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  if (type.getRank() == 0)
    return node.emitError() << "needs an input of rank 1 or more";
  if (count->size() != 1)
    return node.emitError() << "K must hold one value, got " << count->size();
  FailureOr<int64_t> axis = node.normalizeAxis(node.intAttr("axis", -1), type.getRank(), "axis");
  if (failed(axis))
    return failure();
  int64_t k = count->front(), length = type.getDimSize(*axis);
  if (k < 1 || k > length)
    return node.emitError() << "K = " << k << " must be in [1, " << length
                            << "] (the size of axis " << *axis << ")";
  OpBuilder &b = node.getBuilder();
  SmallVector<int64_t> shape(type.getShape());
  shape[*axis] = k;
  auto indexType = RankedTensorType::get(shape, b.getI64Type());
  Value indices = b.createOrFold<TopKOp>(
      node.getLoc(), indexType, *input, b.getI64IntegerAttr(*axis), b.getI64IntegerAttr(k),
      node.intAttr("largest", 1) != 0 ? b.getUnitAttr() : UnitAttr());
  auto valuesType = RankedTensorType::get(shape, type.getElementType());
  node.setOutput(0, b.createOrFold<GatherElementsOp>(node.getLoc(), valuesType, *input,
                                                     indices, b.getI64IntegerAttr(*axis)));
  if (node.numOutputs() > 1)
    node.setOutput(1, indices);
  return success();
}

static LogicalResult convertClip(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  Value result = *input;
  if (node.hasInput(1)) {
    FailureOr<Value> low = node.input(1);
    FailureOr<Value> clipped =
        succeeded(low) ? node.arithmetic<MaxOp>(result, *low) : FailureOr<Value>(failure());
    if (failed(clipped))
      return failure();
    result = *clipped;
  }
  if (node.hasInput(2)) {
    FailureOr<Value> high = node.input(2);
    FailureOr<Value> clipped =
        succeeded(high) ? node.arithmetic<MinOp>(result, *high) : FailureOr<Value>(failure());
    if (failed(clipped))
      return failure();
    result = *clipped;
  }
  node.setOutput(0, result);
  return success();
}

static LogicalResult convertCast(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  std::string reason;
  FailureOr<Type> element = convertOnnxElementType(
      node.getContext(), static_cast<int32_t>(node.intAttr("to", 0)), reason);
  if (failed(element))
    return node.emitError() << "cast target " << reason;
  node.setOutput(0, node.convert(*input, *element));
  return success();
}

static LogicalResult convertWhere(NodeImporter &node) {
  FailureOr<Value> condition = node.input(0), onTrue = node.input(1),
                   onFalse = node.input(2);
  if (failed(condition) || failed(onTrue) || failed(onFalse))
    return failure();
  FailureOr<Value> result = node.select(*condition, *onTrue, *onFalse);
  return node.setResult(result);
}

static LogicalResult convertIdentity(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  return node.setResult(input);
}

static LogicalResult convertDropout(NodeImporter &node) {
  FailureOr<Value> input = node.input(0);
  if (failed(input))
    return failure();
  if (node.hasInput(2)) {
    // Training-mode dropout is the identity when its ratio is a constant 0 (what a model
    // exported for training with dropout disabled holds).
    std::optional<HostTensor> training = node.constantInput(2);
    std::optional<HostTensor> ratio;
    if (node.hasInput(1))
      ratio = node.constantInput(1);
    bool zeroRatio = ratio && ratio->getFloat(0) == 0.0;
    if (!training || (training->getInt(0) != 0 && !zeroRatio))
      return node.emitError()
             << "only inference dropout is supported (training_mode must be "
                "a constant false, or the ratio a constant 0)";
  }
  node.setOutput(0, *input);
  if (node.numOutputs() > 1) {
    auto maskType = RankedTensorType::get(
        NodeImporter::typeOf(*input).getShape(), node.getBuilder().getI1Type());
    node.setOutput(1, node.constant(DenseElementsAttr::get(maskType, true)));
  }
  return success();
}

/// Brings a 1-D operand of MatMul to rank 2 as numpy does, and back.
static LogicalResult convertMatMul(NodeImporter &node) {
  FailureOr<Value> lhs = node.input(0), rhs = node.input(1);
  if (failed(lhs) || failed(rhs))
    return failure();
  auto lhsType = NodeImporter::typeOf(*lhs), rhsType = NodeImporter::typeOf(*rhs);
  if (lhsType.getRank() == 0 || rhsType.getRank() == 0)
    return node.emitError() << "operands must not be scalars";
  bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;
  if (lhsVector)
    lhs = node.reshape(*lhs, {1, lhsType.getDimSize(0)});
  if (rhsVector)
    rhs = node.reshape(*rhs, {rhsType.getDimSize(0), 1});
  if (failed(lhs) || failed(rhs))
    return failure();
  FailureOr<Value> product = node.matmul(*lhs, *rhs);
  if (failed(product))
    return failure();
  if (lhsVector || rhsVector) {
    SmallVector<int64_t> shape(NodeImporter::typeOf(*product).getShape());
    if (rhsVector)
      shape.pop_back();
    if (lhsVector)
      shape.erase(shape.end() - (rhsVector ? 1 : 2));
    product = node.reshape(*product, shape);
    if (failed(product))
      return failure();
  }
  node.setOutput(0, *product);
  return success();
}

/// Gemm: alpha * op(A) x op(B) + beta * C.
static LogicalResult convertGemm(NodeImporter &node) {
  FailureOr<Value> a = node.input(0), b = node.input(1);
  if (failed(a) || failed(b))
    return failure();
  if (NodeImporter::typeOf(*a).getRank() != 2 ||
      NodeImporter::typeOf(*b).getRank() != 2)
    return node.emitError() << "A and B must be matrices";
  if (node.intAttr("transA", 0))
    a = node.transpose(*a, {1, 0});
  if (node.intAttr("transB", 0))
    b = node.transpose(*b, {1, 0});
  if (failed(a) || failed(b))
    return failure();
  FailureOr<Value> result = node.matmul(*a, *b);
  if (failed(result))
    return failure();
  Type element = NodeImporter::typeOf(*result).getElementType();
  float alpha = node.floatAttr("alpha", 1.0f), beta = node.floatAttr("beta", 1.0f);
  if (alpha != 1.0f)
    result = node.arithmetic<MulOp>(*result, node.scalar(element, alpha));
  if (failed(result))
    return failure();
  if (node.hasInput(2) && beta != 0.0f) {
    FailureOr<Value> c = node.input(2);
    if (failed(c))
      return failure();
    if (beta != 1.0f)
      c = node.arithmetic<MulOp>(*c, node.scalar(element, beta));
    if (failed(c))
      return failure();
    result = node.arithmetic<AddOp>(*result, *c);
    if (failed(result))
      return failure();
  }
  node.setOutput(0, *result);
  return success();
}

/// The reduction axes of a Reduce* node: an attribute up to `lastAttrOpset`, an input after.
static FailureOr<SmallVector<int64_t>>
reductionAxes(NodeImporter &node, int64_t rank, int64_t lastAttrOpset) {
  std::optional<SmallVector<int64_t>> axes;
  if (node.getOpset() <= lastAttrOpset) {
    axes = node.intsAttr("axes");
  } else if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> given = node.constantInts(1, "axes");
    if (failed(given))
      return failure();
    axes = *given;
  }
  SmallVector<int64_t> result;
  if (!axes || axes->empty()) {
    if (node.intAttr("noop_with_empty_axes", 0))
      return result;
    for (int64_t d = 0; d < rank; ++d)
      result.push_back(d);
    return result;
  }
  for (int64_t axis : *axes) {
    FailureOr<int64_t> normalized = node.normalizeAxis(axis, rank, "axis");
    if (failed(normalized))
      return failure();
    result.push_back(*normalized);
  }
  llvm::sort(result);
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

template <typename OpTy>
static OpConverter reduction(int64_t lastAttrOpset) {
  return [lastAttrOpset](NodeImporter &node) -> LogicalResult {
    FailureOr<Value> input = node.input(0);
    if (failed(input))
      return failure();
    auto type = NodeImporter::typeOf(*input);
    if (type.getElementType().isInteger(1))
      return node.emitError() << "needs a numeric input";
    FailureOr<SmallVector<int64_t>> axes =
        reductionAxes(node, type.getRank(), lastAttrOpset);
    if (failed(axes))
      return failure();
    if (axes->empty()) {
      node.setOutput(0, *input);
      return success();
    }
    FailureOr<Value> result =
        node.reduce<OpTy>(*input, *axes, node.intAttr("keepdims", 1) != 0);
    return node.setResult(result);
  };
}

/// LayerNormalization over dims [axis, rank): (x - mean) / sqrt(var + eps) * scale + bias,
/// computed in f32 for 16-bit inputs (stash_type 1).
static LogicalResult convertLayerNormalization(NodeImporter &node) {
  FailureOr<Value> input = node.input(0), scale = node.input(1);
  if (failed(input) || failed(scale))
    return failure();
  auto type = NodeImporter::typeOf(*input);
  FailureOr<int64_t> axis = floatInputAxis(node, type);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> axes;
  for (int64_t d = *axis; d < type.getRank(); ++d)
    axes.push_back(d);
  Type f32 = node.getBuilder().getF32Type();
  Value x = node.convert(*input, f32);
  FailureOr<Value> mean = node.reduce<ReduceMeanOp>(x, axes, true);
  FailureOr<Value> centered =
      succeeded(mean) ? node.arithmetic<SubOp>(x, *mean) : FailureOr<Value>(failure());
  FailureOr<Value> squared =
      succeeded(centered) ? node.arithmetic<MulOp>(*centered, *centered)
                          : FailureOr<Value>(failure());
  FailureOr<Value> variance =
      succeeded(squared) ? node.reduce<ReduceMeanOp>(*squared, axes, true)
                         : FailureOr<Value>(failure());
  if (failed(variance))
    return failure();
  FailureOr<Value> shifted = node.arithmetic<AddOp>(
      *variance, node.scalar(f32, node.floatAttr("epsilon", 1e-5f)));
  if (failed(shifted))
    return failure();
  Value inverseStd = node.unary<ReciprocalOp>(node.unary<SqrtOp>(*shifted));
  FailureOr<Value> normalized = node.arithmetic<MulOp>(*centered, inverseStd);
  if (failed(normalized))
    return failure();
  Value y = node.convert(*normalized, type.getElementType());
  FailureOr<Value> result = node.arithmetic<MulOp>(y, *scale);
  if (succeeded(result) && node.hasInput(2)) {
    FailureOr<Value> bias = node.input(2);
    result = succeeded(bias) ? node.arithmetic<AddOp>(*result, *bias) : FailureOr<Value>(failure());
  }
  if (failed(result))
    return failure();
  node.setOutput(0, *result);
  node.setOutput(1, *mean);
  node.setOutput(2, inverseStd);
  return success();
}

void mlir::parc::registerMathConverters(llvm::StringMap<OpConverter> &converters) {
  converters["Add"] = binary(&NodeImporter::arithmetic<AddOp>);
  converters["Sub"] = binary(&NodeImporter::arithmetic<SubOp>);
  converters["Mul"] = binary(&NodeImporter::arithmetic<MulOp>);
  converters["Div"] = binary(&NodeImporter::arithmetic<DivOp>);
  converters["Pow"] = convertPow;
  converters["Max"] = variadic(&NodeImporter::arithmetic<MaxOp>);
  converters["Min"] = variadic(&NodeImporter::arithmetic<MinOp>);
  converters["Sum"] = variadic(&NodeImporter::arithmetic<AddOp>);
  converters["Equal"] = binary(&NodeImporter::compare<EqualOp>);
  converters["Less"] = binary(&NodeImporter::compare<LessOp>);
  converters["Greater"] = binary(&NodeImporter::compare<GreaterOp>);
  converters["LessOrEqual"] = [](NodeImporter &n) {
    return convertLessOrEqual(n, /*less=*/true);
  };
  converters["GreaterOrEqual"] = [](NodeImporter &n) {
    return convertLessOrEqual(n, /*less=*/false);
  };
  converters["And"] = binary(&NodeImporter::compare<AndOp>);
  converters["Or"] = binary(&NodeImporter::compare<OrOp>);
  converters["Not"] = convertNot;
  converters["IsNaN"] = convertIsNaN;
  converters["Neg"] = unary<NegOp>(/*floatOnly=*/false);
  converters["Abs"] = unary<AbsOp>(/*floatOnly=*/false);
  converters["Relu"] = unary<ReluOp>(/*floatOnly=*/false);
  converters["Exp"] = unary<ExpOp>(/*floatOnly=*/true);
  converters["Log"] = unary<LogOp>(/*floatOnly=*/true);
  converters["Sqrt"] = unary<SqrtOp>(/*floatOnly=*/true);
  converters["Reciprocal"] = unary<ReciprocalOp>(/*floatOnly=*/true);
  converters["Tanh"] = unary<TanhOp>(/*floatOnly=*/true);
  converters["Erf"] = unary<ErfOp>(/*floatOnly=*/true);
  converters["Sigmoid"] = unary<SigmoidOp>(/*floatOnly=*/true);
  converters["Sin"] = unary<SinOp>(/*floatOnly=*/true);
  converters["Cos"] = unary<CosOp>(/*floatOnly=*/true);
  converters["Mod"] = convertMod;
  converters["Gelu"] = convertGelu;
  converters["Softmax"] = convertSoftmax<SoftmaxOp>;
  converters["LogSoftmax"] = convertSoftmax<LogSoftmaxOp>;
  converters["Clip"] = convertClip;
  converters["CumSum"] = convertCumSum;
  converters["TopK"] = convertTopK;
  converters["Cast"] = convertCast;
  converters["Where"] = convertWhere;
  converters["Identity"] = convertIdentity;
  converters["Dropout"] = convertDropout;
  converters["MatMul"] = convertMatMul;
  converters["Gemm"] = convertGemm;
  converters["ReduceSum"] = reduction<ReduceSumOp>(/*lastAttrOpset=*/12);
  converters["ReduceMean"] = reduction<ReduceMeanOp>(/*lastAttrOpset=*/17);
  converters["ReduceMax"] = reduction<ReduceMaxOp>(/*lastAttrOpset=*/17);
  converters["LayerNormalization"] = convertLayerNormalization;
}
