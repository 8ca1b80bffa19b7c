//===- ParcFolders.cpp - constant folding of parc ops ---------------------===//
//
// Folders of the parc operations. With static shapes, the shape arithmetic that exporters emit
// (Shape -> Gather -> Concat -> Reshape, Range, ConstantOfShape, masks built from comparisons)
// has only constant operands, so these folders reduce it to literals and leave the model's real
// compute. Trivial ops (identity reshapes, transposes, broadcasts and conversions) fold away.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/HostTensor.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::parc;

namespace {
using FloatBinaryFn = double (*)(double, double);
using IntBinaryFn = std::optional<int64_t> (*)(int64_t, int64_t);
using FloatUnaryFn = double (*)(double);
using IntUnaryFn = int64_t (*)(int64_t);
} // namespace

static RankedTensorType resultTypeOf(Operation *op) {
  return cast<RankedTensorType>(op->getResult(0).getType());
}

/// Evaluates a broadcasting binary op on constant operands. `floatFn` runs when the operands
/// are floating point, `intFn` when they are integers or booleans; an empty optional from
/// `intFn` (division by zero) stops folding.
static OpFoldResult foldBinary(Operation *op, ArrayRef<Attribute> operands,
                               FloatBinaryFn floatFn, IntBinaryFn intFn) {
  std::optional<HostTensor> lhs = HostTensor::fromAttr(operands[0]);
  std::optional<HostTensor> rhs = HostTensor::fromAttr(operands[1]);
  RankedTensorType type = resultTypeOf(op);
  if (!lhs || !rhs || !HostTensor::fits(type))
    return {};
  if (!HostTensor::fits(type))
    return {};
  HostTensor result(type);
  ArrayRef<int64_t> shape = type.getShape();
  for (int64_t i = 0, e = result.size(); i < e; ++i) {
    int64_t l = HostTensor::broadcastIndex(lhs->getShape(), shape, i);
    int64_t r = HostTensor::broadcastIndex(rhs->getShape(), shape, i);
    if (lhs->isFloat()) {
      result.setFloat(i, floatFn(lhs->getFloat(l), rhs->getFloat(r)));
      continue;
    }
    std::optional<int64_t> value = intFn(lhs->getInt(l), rhs->getInt(r));
    if (!value)
      return {};
    result.setInt(i, *value);
  }
  return result.toAttr();
}

static OpFoldResult foldUnary(Operation *op, Attribute operand,
                              FloatUnaryFn floatFn, IntUnaryFn intFn) {
  std::optional<HostTensor> input = HostTensor::fromAttr(operand);
  if (!input)
    return {};
  if (!HostTensor::fits(resultTypeOf(op)))
    return {};
  HostTensor result(resultTypeOf(op));
  for (int64_t i = 0, e = result.size(); i < e; ++i) {
    if (input->isFloat())
      result.setFloat(i, floatFn(input->getFloat(i)));
    else
      result.setInt(i, intFn(input->getInt(i)));
  }
  return result.toAttr();
}

/// base^exponent by squaring; none (no fold) for a negative exponent or a result past
/// int64: a model's exponent can be 2^62, which a loop of multiplications would not end.
static std::optional<int64_t> intPow(int64_t base, int64_t exponent) {
  if (exponent < 0)
    return std::nullopt;
  int64_t result = 1;
  while (exponent > 0) {
    if ((exponent & 1) && __builtin_mul_overflow(result, base, &result))
      return std::nullopt;
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base))
      return std::nullopt;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Constants and elementwise ops
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(), [](double a, double b) { return a + b; },
      [](int64_t a, int64_t b) -> std::optional<int64_t> {
        int64_t c;
        if (__builtin_add_overflow(a, b, &c))
          return std::nullopt; // the kernels wrap; C++ leaves it undefined: not folded
        return c;
      });
}
OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(), [](double a, double b) { return a - b; },
      [](int64_t a, int64_t b) -> std::optional<int64_t> {
        int64_t c;
        if (__builtin_sub_overflow(a, b, &c))
          return std::nullopt; // the kernels wrap; C++ leaves it undefined: not folded
        return c;
      });
}
OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(), [](double a, double b) { return a * b; },
      [](int64_t a, int64_t b) -> std::optional<int64_t> {
        int64_t c;
        if (__builtin_mul_overflow(a, b, &c))
          return std::nullopt; // the kernels wrap; C++ leaves it undefined: not folded
        return c;
      });
}
OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(), [](double a, double b) { return a / b; },
      [](int64_t a, int64_t b) -> std::optional<int64_t> {
        if (b == 0 || (a == std::numeric_limits<int64_t>::min() && b == -1))
          return std::nullopt;
        return a / b;
      });
}
OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return std::pow(a, b); }, intPow);
}
OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return std::isnan(a) || a > b ? a : b; },
      [](int64_t a, int64_t b) -> std::optional<int64_t> {
        return std::max(a, b);
      });
}
OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return std::isnan(a) || a < b ? a : b; },
      [](int64_t a, int64_t b) -> std::optional<int64_t> {
        return std::min(a, b);
      });
}
/// The remainder with the divisor's sign (Python) or, for `cStyle`, the dividend's.
static double floatRemainder(double a, double b, bool cStyle) {
  double r = std::fmod(a, b);
  if (!cStyle && r != 0 && ((r < 0) != (b < 0)))
    r += b;
  return r;
}
static std::optional<int64_t> intRemainder(int64_t a, int64_t b, bool cStyle) {
  if (b == 0)
    return std::nullopt;
  int64_t r = b == -1 ? 0 : a % b; // INT64_MIN % -1 overflows
  if (!cStyle && r != 0 && ((r < 0) != (b < 0)))
    r += b;
  return r;
}

OpFoldResult ModOp::fold(FoldAdaptor adaptor) {
  if (getFmod())
    return foldBinary(
        *this, adaptor.getOperands(),
        [](double a, double b) { return floatRemainder(a, b, true); },
        [](int64_t a, int64_t b) { return intRemainder(a, b, true); });
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return floatRemainder(a, b, false); },
      [](int64_t a, int64_t b) { return intRemainder(a, b, false); });
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return double(a == b); },
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a == b; });
}
OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return double(a < b); },
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a < b; });
}
OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return double(a > b); },
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a > b; });
}
OpFoldResult AndOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return double(a != 0 && b != 0); },
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a && b; });
}
OpFoldResult OrOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      *this, adaptor.getOperands(),
      [](double a, double b) { return double(a != 0 || b != 0); },
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a || b; });
}

static int64_t noIntegerForm(int64_t v) { return v; }

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return -v; },
      [](int64_t v) { return -v; });
}
OpFoldResult AbsOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return std::fabs(v); },
      [](int64_t v) { return v < 0 ? -v : v; });
}
OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return v > 0 ? v : 0.0; },
      [](int64_t v) { return v > 0 ? v : int64_t(0); });
}
OpFoldResult ExpOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return std::exp(v); },
      noIntegerForm);
}
OpFoldResult LogOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return std::log(v); },
      noIntegerForm);
}
OpFoldResult SqrtOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return std::sqrt(v); },
      noIntegerForm);
}
OpFoldResult ReciprocalOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return 1.0 / v; },
      noIntegerForm);
}
OpFoldResult TanhOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return std::tanh(v); },
      noIntegerForm);
}
OpFoldResult ErfOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return std::erf(v); },
      noIntegerForm);
}
OpFoldResult SinOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return std::sin(v); },
      noIntegerForm);
}
OpFoldResult CosOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return std::cos(v); },
      noIntegerForm);
}
OpFoldResult SigmoidOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(),
      [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, noIntegerForm);
}
OpFoldResult NotOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      *this, adaptor.getInput(), [](double v) { return double(v == 0); },
      [](int64_t v) { return int64_t(v == 0); });
}
OpFoldResult GeluOp::fold(FoldAdaptor adaptor) {
  if (getTanhApproximation())
    return foldUnary(
        *this, adaptor.getInput(),
        [](double x) {
          const double k = std::sqrt(2.0 / M_PI);
          return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
        },
        noIntegerForm);
  return foldUnary(
      *this, adaptor.getInput(),
      [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); },
      noIntegerForm);
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  std::optional<HostTensor> condition =
      HostTensor::fromAttr(adaptor.getCondition());
  if (!condition)
    return {};
  // A uniform condition picks one operand whole, when no broadcast is needed.
  if (auto dense = dyn_cast<DenseElementsAttr>(adaptor.getCondition());
      dense && dense.isSplat()) {
    Value picked = dense.getSplatValue<bool>() ? getOnTrue() : getOnFalse();
    if (picked.getType() == getType())
      return picked;
  }
  std::optional<HostTensor> onTrue = HostTensor::fromAttr(adaptor.getOnTrue());
  std::optional<HostTensor> onFalse =
      HostTensor::fromAttr(adaptor.getOnFalse());
  if (!onTrue || !onFalse)
    return {};
  if (!HostTensor::fits(getType()))
    return {};
  HostTensor result(getType());
  ArrayRef<int64_t> shape = getType().getShape();
  for (int64_t i = 0, e = result.size(); i < e; ++i) {
    bool pick = condition->getInt(
        HostTensor::broadcastIndex(condition->getShape(), shape, i));
    const HostTensor &source = pick ? *onTrue : *onFalse;
    result.copyElement(i, source,
                       HostTensor::broadcastIndex(source.getShape(), shape, i));
  }
  return result.toAttr();
}

OpFoldResult ConvertOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  std::optional<HostTensor> input = HostTensor::fromAttr(adaptor.getInput());
  if (!input)
    return {};
  if (!HostTensor::fits(getType()))
    return {};
  HostTensor result(getType());
  bool toBool = getType().getElementType().isInteger(1);
  for (int64_t i = 0, e = result.size(); i < e; ++i) {
    if (!input->isFloat()) {
      int64_t v = input->getInt(i);
      result.setInt(i, toBool ? int64_t(v != 0) : v);
      continue;
    }
    double v = input->getFloat(i);
    if (result.isFloat()) {
      result.setFloat(i, v);
    } else if (toBool) {
      result.setInt(i, v != 0);
    } else {
      // Out-of-range float to integer conversions have no defined value: keep them.
      if (!std::isfinite(v) ||
          std::fabs(v) >= double(std::numeric_limits<int64_t>::max()))
        return {};
      result.setInt(i, static_cast<int64_t>(v));
    }
  }
  return result.toAttr();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

enum class ReduceKind { Sum, Mean, Max };

static OpFoldResult foldReduce(Operation *op, Attribute operand,
                               ArrayRef<int64_t> axes, ReduceKind kind) {
  std::optional<HostTensor> input = HostTensor::fromAttr(operand);
  if (!input)
    return {};
  ArrayRef<int64_t> shape = input->getShape();
  if (!HostTensor::fits(resultTypeOf(op)))
    return {};
  HostTensor result(resultTypeOf(op));
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= shape[axis];
  // Each input element contributes to the output element at its unreduced coordinates.
  SmallVector<int64_t> keptShape(shape);
  for (int64_t axis : axes)
    keptShape[axis] = 1;
  SmallVector<int64_t> keptStrides = HostTensor::strides(keptShape);
  std::vector<bool> initialized(result.size(), false);
  for (int64_t i = 0, e = input->size(); i < e; ++i) {
    int64_t rest = i, out = 0;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      int64_t coordinate = rest % shape[d];
      rest /= shape[d];
      if (!llvm::is_contained(axes, d))
        out += coordinate * keptStrides[d];
    }
    if (input->isFloat()) {
      double v = input->getFloat(i);
      double acc = result.getFloat(out);
      if (kind == ReduceKind::Max)
        result.setFloat(out, !initialized[out] || v > acc ? v : acc);
      else
        result.setFloat(out, acc + v);
    } else {
      int64_t v = input->getInt(i);
      int64_t acc = result.getInt(out);
      if (kind == ReduceKind::Max)
        result.setInt(out, !initialized[out] || v > acc ? v : acc);
      else
        result.setInt(out, acc + v);
    }
    initialized[out] = true;
  }
  if (kind == ReduceKind::Mean) {
    for (int64_t i = 0, e = result.size(); i < e; ++i) {
      if (result.isFloat())
        result.setFloat(i, result.getFloat(i) / double(count));
      else
        result.setInt(i, result.getInt(i) / count);
    }
  }
  return result.toAttr();
}

OpFoldResult ReduceSumOp::fold(FoldAdaptor adaptor) {
  return foldReduce(*this, adaptor.getInput(), getAxes(), ReduceKind::Sum);
}
OpFoldResult ReduceMeanOp::fold(FoldAdaptor adaptor) {
  return foldReduce(*this, adaptor.getInput(), getAxes(), ReduceKind::Mean);
}
OpFoldResult ReduceMaxOp::fold(FoldAdaptor adaptor) {
  return foldReduce(*this, adaptor.getInput(), getAxes(), ReduceKind::Max);
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(getType());
  // reshape(reshape(x)) only depends on x.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> permutation = getPermutation();
  if (llvm::equal(permutation, llvm::seq<int64_t>(0, permutation.size())))
    return getInput();
  // transpose(transpose(x, p), q) == transpose(x, p[q[i]]).
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    SmallVector<int64_t> composed;
    for (int64_t p : permutation)
      composed.push_back(inner.getPermutation()[p]);
    setPermutation(composed);
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  std::optional<HostTensor> input = HostTensor::fromAttr(adaptor.getInput());
  if (!input)
    return {};
  if (!HostTensor::fits(getType()))
    return {};
  HostTensor result(getType());
  SmallVector<int64_t> inputStrides = HostTensor::strides(input->getShape());
  ArrayRef<int64_t> shape = getType().getShape();
  for (int64_t i = 0, e = result.size(); i < e; ++i) {
    int64_t rest = i, source = 0;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      source += (rest % shape[d]) * inputStrides[permutation[d]];
      rest /= shape[d];
    }
    result.copyElement(i, *input, source);
  }
  return result.toAttr();
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  SmallVector<HostTensor> inputs;
  for (Attribute attr : adaptor.getInputs()) {
    std::optional<HostTensor> input = HostTensor::fromAttr(attr);
    if (!input)
      return {};
    inputs.push_back(std::move(*input));
  }
  if (!HostTensor::fits(getType()))
    return {};
  HostTensor result(getType());
  ArrayRef<int64_t> shape = getType().getShape();
  int64_t axis = getAxis();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1, e = shape.size(); d < e; ++d)
    inner *= shape[d];
  int64_t out = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (const HostTensor &input : inputs) {
      int64_t chunk = input.getShape()[axis] * inner;
      for (int64_t j = 0; j < chunk; ++j)
        result.copyElement(out++, input, o * chunk + j);
    }
  return result.toAttr();
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  std::optional<HostTensor> input = HostTensor::fromAttr(adaptor.getInput());
  if (!input)
    return {};
  if (!HostTensor::fits(getType()))
    return {};
  HostTensor result(getType());
  SmallVector<int64_t> inputStrides = HostTensor::strides(input->getShape());
  ArrayRef<int64_t> shape = getType().getShape();
  ArrayRef<int64_t> starts = getStartIndices(), strides = getStrides();
  for (int64_t i = 0, e = result.size(); i < e; ++i) {
    int64_t rest = i, source = 0;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      source += (starts[d] + (rest % shape[d]) * strides[d]) * inputStrides[d];
      rest /= shape[d];
    }
    result.copyElement(i, *input, source);
  }
  return result.toAttr();
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  std::optional<HostTensor> input = HostTensor::fromAttr(adaptor.getInput());
  std::optional<HostTensor> indices = HostTensor::fromAttr(adaptor.getIndices());
  if (!input || !indices)
    return {};
  int64_t axis = getAxis();
  ArrayRef<int64_t> inShape = input->getShape();
  int64_t outer = 1, inner = 1, axisSize = inShape[axis];
  for (int64_t d = 0; d < axis; ++d)
    outer *= inShape[d];
  for (int64_t d = axis + 1, e = inShape.size(); d < e; ++d)
    inner *= inShape[d];
  if (!HostTensor::fits(getType()))
    return {};
  HostTensor result(getType());
  int64_t out = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0, n = indices->size(); k < n; ++k) {
      int64_t index = indices->getInt(k);
      if (index < 0)
        index += axisSize;
      if (index < 0 || index >= axisSize)
        return {};
      for (int64_t j = 0; j < inner; ++j)
        result.copyElement(out++, *input, (o * axisSize + index) * inner + j);
    }
  return result.toAttr();
}

OpFoldResult GatherElementsOp::fold(FoldAdaptor adaptor) {
  std::optional<HostTensor> input = HostTensor::fromAttr(adaptor.getInput());
  std::optional<HostTensor> indices = HostTensor::fromAttr(adaptor.getIndices());
  if (!input || !indices)
    return {};
  ArrayRef<int64_t> inputShape = input->getShape();
  ArrayRef<int64_t> shape = indices->getShape();
  int64_t rank = inputShape.size(), axis = getAxis();
  SmallVector<int64_t> inputStrides = HostTensor::strides(inputShape);
  if (!HostTensor::fits(getType()))
    return {};
  HostTensor result(getType());
  for (int64_t i = 0, e = result.size(); i < e; ++i) {
    int64_t rest = i, source = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t coordinate = rest % shape[d];
      rest /= shape[d];
      if (d == axis) {
        coordinate = indices->getInt(i);
        if (coordinate < 0)
          coordinate += inputShape[d];
        if (coordinate < 0 || coordinate >= inputShape[d])
          return {};
      }
      source += coordinate * inputStrides[d];
    }
    result.copyElement(i, *input, source);
  }
  return result.toAttr();
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  if (!dense)
    return {};
  if (dense.isSplat())
    return SplatElementsAttr::get(getType(), dense.getSplatValue<Attribute>());
  std::optional<HostTensor> input = HostTensor::fromAttr(dense);
  if (!input || !HostTensor::fits(getType()))
    return {};
  if (!HostTensor::fits(getType()))
    return {};
  HostTensor result(getType());
  for (int64_t i = 0, e = result.size(); i < e; ++i)
    result.copyElement(i, *input,
                       HostTensor::broadcastIndex(input->getShape(),
                                                  getType().getShape(), i));
  return result.toAttr();
}
