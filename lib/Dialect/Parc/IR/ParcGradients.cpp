//===- ParcGradients.cpp - the adjoint of each parc op --------------------===//
//
// The GradientOpInterface rules of the parc ops: each is the textbook adjoint written in
// parc ops (x: operand, y: result, g: the result's gradient), built with GradientBuilder.
// Ops without a rule declare it in ParcOps.td (NoGradient, NoGradientRule).
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/GradientBuilder.h"

#include <cmath>

using namespace mlir;
using namespace mlir::parc;

static RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.resultGradient());
  gb.set(1, gb.resultGradient());
  return success();
}

LogicalResult SubOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.resultGradient());
  if (gb.needed(1))
    gb.set(1, gb.unary<NegOp>(gb.resultGradient()));
  return success();
}

LogicalResult MulOp::buildGradients(GradientBuilder &gb) {
  Value g = gb.resultGradient();
  if (gb.needed(0))
    gb.set(0, gb.mul(g, gb.x(1)));
  if (gb.needed(1))
    gb.set(1, gb.mul(g, gb.x(0)));
  return success();
}

LogicalResult DivOp::buildGradients(GradientBuilder &gb) {
  // y = a / b: da = g / b, db = -g * y / b.
  Value g = gb.resultGradient();
  if (gb.needed(0))
    gb.set(0, gb.div(g, gb.x(1)));
  if (gb.needed(1))
    gb.set(1, gb.unary<NegOp>(gb.div(gb.mul(g, gb.y()), gb.x(1))));
  return success();
}

LogicalResult PowOp::buildGradients(GradientBuilder &gb) {
  // y = a ^ p: da = g * p * a ^ (p - 1), dp = g * y * log(a).
  Value g = gb.resultGradient();
  if (gb.needed(0)) {
    Value exponent = gb.sub(gb.x(1), gb.scalar(gb.x(1), 1.0));
    gb.set(0, gb.mul(gb.mul(g, gb.x(1)), gb.binary<PowOp>(gb.x(0), exponent)));
  }
  if (gb.needed(1))
    gb.set(1, gb.mul(gb.mul(g, gb.y()), gb.unary<LogOp>(gb.x(0))));
  return success();
}

LogicalResult NegOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.unary<NegOp>(gb.resultGradient()));
  return success();
}

LogicalResult ReluOp::buildGradients(GradientBuilder &gb) {
  Value g = gb.resultGradient();
  gb.set(0, gb.select(gb.greaterThanZero(gb.x(0)), g, gb.zerosLike(g)));
  return success();
}

LogicalResult ExpOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.mul(gb.resultGradient(), gb.y()));
  return success();
}

LogicalResult LogOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.div(gb.resultGradient(), gb.x(0)));
  return success();
}

LogicalResult SqrtOp::buildGradients(GradientBuilder &gb) {
  Value g = gb.resultGradient();
  gb.set(0, gb.div(gb.mul(g, gb.scalar(g, 0.5)), gb.y()));
  return success();
}

LogicalResult ReciprocalOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.unary<NegOp>(gb.mul(gb.mul(gb.resultGradient(), gb.y()), gb.y())));
  return success();
}

LogicalResult TanhOp::buildGradients(GradientBuilder &gb) {
  Value y = gb.y();
  gb.set(0, gb.mul(gb.resultGradient(), gb.sub(gb.scalar(y, 1.0), gb.mul(y, y))));
  return success();
}

LogicalResult SigmoidOp::buildGradients(GradientBuilder &gb) {
  Value y = gb.y();
  gb.set(0, gb.mul(gb.mul(gb.resultGradient(), y), gb.sub(gb.scalar(y, 1.0), y)));
  return success();
}

LogicalResult SinOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.mul(gb.resultGradient(), gb.unary<CosOp>(gb.x(0))));
  return success();
}

LogicalResult CosOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.unary<NegOp>(gb.mul(gb.resultGradient(), gb.unary<SinOp>(gb.x(0)))));
  return success();
}

LogicalResult ErfOp::buildGradients(GradientBuilder &gb) {
  // d erf(x) = 2 / sqrt(pi) * exp(-x^2).
  Value g = gb.resultGradient();
  Value square = gb.mul(gb.x(0), gb.x(0));
  Value bump = gb.unary<ExpOp>(gb.unary<NegOp>(square));
  gb.set(0, gb.mul(g, gb.mul(bump, gb.scalar(g, 2.0 / std::sqrt(M_PI)))));
  return success();
}

LogicalResult GeluOp::buildGradients(GradientBuilder &gb) {
  Value v = gb.x(0);
  Value derivative;
  if (getTanhApproximation()) {
    // 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2), t = tanh(c (x + k x^3)).
    double c = std::sqrt(2.0 / M_PI), k = 0.044715;
    Value square = gb.mul(v, v);
    Value inner =
        gb.mul(gb.scalar(v, c), gb.add(v, gb.mul(gb.scalar(v, k), gb.mul(square, v))));
    Value t = gb.unary<TanhOp>(inner);
    Value left = gb.mul(gb.scalar(v, 0.5), gb.add(gb.scalar(v, 1.0), t));
    Value slope =
        gb.mul(gb.scalar(v, c), gb.add(gb.scalar(v, 1.0), gb.mul(gb.scalar(v, 3 * k), square)));
    Value right = gb.mul(gb.mul(gb.scalar(v, 0.5), v),
                         gb.mul(gb.sub(gb.scalar(v, 1.0), gb.mul(t, t)), slope));
    derivative = gb.add(left, right);
  } else {
    // Phi(x) + x phi(x).
    Value cdf = gb.mul(gb.scalar(v, 0.5),
                       gb.add(gb.scalar(v, 1.0),
                              gb.unary<ErfOp>(gb.mul(v, gb.scalar(v, M_SQRT1_2)))));
    Value pdf = gb.mul(gb.scalar(v, 1.0 / std::sqrt(2 * M_PI)),
                       gb.unary<ExpOp>(gb.mul(gb.mul(v, v), gb.scalar(v, -0.5))));
    derivative = gb.add(cdf, gb.mul(v, pdf));
  }
  gb.set(0, gb.mul(gb.resultGradient(), derivative));
  return success();
}

LogicalResult SelectOp::buildGradients(GradientBuilder &gb) {
  Value g = gb.resultGradient();
  Value zeros = gb.zerosLike(g);
  if (gb.needed(1))
    gb.set(1, gb.select(getCondition(), g, zeros));
  if (gb.needed(2))
    gb.set(2, gb.select(getCondition(), zeros, g));
  return success();
}

LogicalResult ConvertOp::buildGradients(GradientBuilder &gb) {
  if (isa<FloatType>(typeOf(getInput()).getElementType()))
    gb.set(0, ConvertOp::create(gb.builder(), gb.getLoc(), getInput().getType(),
                                gb.resultGradient()));
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions, reductions, normalizations
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::buildGradients(GradientBuilder &gb) {
  if (typeOf(getLhs()).getRank() < 2 || typeOf(getRhs()).getRank() < 2)
    return gb.noRule();
  // y = a b: da = g b^T, db = a^T g (batch dims summed back by set).
  Value g = gb.resultGradient();
  if (gb.needed(0))
    gb.set(0, gb.matmul(g, gb.transposeLastTwo(getRhs())));
  if (gb.needed(1))
    gb.set(1, gb.matmul(gb.transposeLastTwo(getLhs()), g));
  return success();
}

/// The gradient of a sum or mean over `axes`: the result's gradient spread back over them.
static LogicalResult reductionGradients(GradientBuilder &gb, Value input,
                                        ArrayRef<int64_t> axes, bool keepDims, bool mean) {
  RankedTensorType inputType = typeOf(input);
  SmallVector<int64_t> kept(inputType.getShape());
  double count = 1;
  for (int64_t axis : axes) {
    kept[axis] = 1;
    count *= inputType.getDimSize(axis);
  }
  Value spread = gb.resultGradient();
  if (!keepDims)
    spread = ReshapeOp::create(gb.builder(), gb.getLoc(),
                               RankedTensorType::get(kept, inputType.getElementType()), spread);
  spread = BroadcastToOp::create(gb.builder(), gb.getLoc(), inputType, spread);
  if (mean)
    spread = gb.mul(spread, gb.scalar(spread, 1.0 / count));
  gb.set(0, spread);
  return success();
}

LogicalResult ReduceSumOp::buildGradients(GradientBuilder &gb) {
  return reductionGradients(gb, getInput(), getAxes(), getKeepDims(), /*mean=*/false);
}

LogicalResult ReduceMeanOp::buildGradients(GradientBuilder &gb) {
  return reductionGradients(gb, getInput(), getAxes(), getKeepDims(), /*mean=*/true);
}

LogicalResult SoftmaxOp::buildGradients(GradientBuilder &gb) {
  // dx = y (g - sum(g y)).
  Value g = gb.resultGradient(), y = gb.y();
  Value dot = gb.sumKeep(gb.mul(g, y), getAxis());
  gb.set(0, gb.mul(y, gb.sub(g, dot)));
  return success();
}

LogicalResult LogSoftmaxOp::buildGradients(GradientBuilder &gb) {
  // dx = g - exp(y) sum(g).
  Value g = gb.resultGradient();
  Value total = gb.sumKeep(g, getAxis());
  gb.set(0, gb.sub(g, gb.mul(gb.unary<ExpOp>(gb.y()), total)));
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, ReshapeOp::create(gb.builder(), gb.getLoc(), getInput().getType(),
                              gb.resultGradient()));
  return success();
}

LogicalResult TransposeOp::buildGradients(GradientBuilder &gb) {
  ArrayRef<int64_t> permutation = getPermutation();
  SmallVector<int64_t> inverse(permutation.size());
  for (auto [i, p] : llvm::enumerate(permutation))
    inverse[p] = i;
  gb.set(0, TransposeOp::create(gb.builder(), gb.getLoc(), getInput().getType(),
                                gb.resultGradient(), gb.builder().getDenseI64ArrayAttr(inverse)));
  return success();
}

LogicalResult BroadcastToOp::buildGradients(GradientBuilder &gb) {
  gb.set(0, gb.resultGradient());
  return success();
}

LogicalResult ConcatOp::buildGradients(GradientBuilder &gb) {
  OpBuilder &b = gb.builder();
  Value g = gb.resultGradient();
  int64_t axis = getAxis(), offset = 0;
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    RankedTensorType type = typeOf(input);
    if (gb.needed(i)) {
      SmallVector<int64_t> starts(type.getRank(), 0), strides(type.getRank(), 1);
      SmallVector<int64_t> limits(typeOf(g).getShape());
      starts[axis] = offset;
      limits[axis] = offset + type.getDimSize(axis);
      gb.set(i, SliceOp::create(b, gb.getLoc(), type, g, b.getDenseI64ArrayAttr(starts),
                                b.getDenseI64ArrayAttr(limits), b.getDenseI64ArrayAttr(strides)));
    }
    offset += type.getDimSize(axis);
  }
  return success();
}

LogicalResult SliceOp::buildGradients(GradientBuilder &gb) {
  // Zeros around the slice, dim by dim (unit strides only).
  if (llvm::any_of(getStrides(), [](int64_t s) { return s != 1; }))
    return gb.noRule();
  OpBuilder &b = gb.builder();
  Location loc = gb.getLoc();
  RankedTensorType input = typeOf(getInput());
  Value padded = gb.resultGradient();
  for (int64_t d = 0; d < input.getRank(); ++d) {
    int64_t start = getStartIndices()[d], limit = getLimitIndices()[d];
    int64_t size = input.getDimSize(d);
    if (start == 0 && limit == size)
      continue;
    SmallVector<Value> pieces;
    auto zeros = [&](int64_t count) {
      SmallVector<int64_t> shape(typeOf(padded).getShape());
      shape[d] = count;
      return ConstantOp::create(b, loc, RankedTensorType::get(shape, input.getElementType()), 0.0);
    };
    if (start > 0)
      pieces.push_back(zeros(start));
    pieces.push_back(padded);
    if (limit < size)
      pieces.push_back(zeros(size - limit));
    SmallVector<int64_t> shape(typeOf(padded).getShape());
    shape[d] = size;
    padded = ConcatOp::create(b, loc, RankedTensorType::get(shape, input.getElementType()),
                              pieces, static_cast<uint64_t>(d));
  }
  gb.set(0, padded);
  return success();
}

LogicalResult GatherOp::buildGradients(GradientBuilder &gb) {
  if (!typeOf(getInput()).getElementType().isF32())
    return gb.noRule();
  if (gb.needed(0))
    gb.setExact(0, ScatterAddOp::create(gb.builder(), gb.getLoc(), getInput().getType(),
                                        gb.resultGradient(), getIndices(), getAxisAttr()));
  return success();
}

/// dx[.., m, ..] = sum_j g[.., j, ..] * (index[.., j, ..] == m) along the axis: each
/// picked element receives the gradients of the positions that picked it (TopK's values).
/// Written with a one-hot comparison over a new dim after the axis, so every layout rule
/// applies; for indices that match the input outside the axis (the TopK case).
LogicalResult GatherElementsOp::buildGradients(GradientBuilder &gb) {
  auto inputType = typeOf(getInput());
  auto indexType = typeOf(getIndices());
  int64_t axis = getAxis(), rank = inputType.getRank();
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && indexType.getDimSize(d) != inputType.getDimSize(d))
      return gb.noRule();
  if (!isa<FloatType>(inputType.getElementType()))
    return gb.noRule();
  if (!gb.needed(0))
    return success();
  OpBuilder &b = gb.builder();
  Location loc = gb.getLoc();
  int64_t length = inputType.getDimSize(axis);
  Type indexElement = indexType.getElementType();
  // Negative indices count from the end.
  Value index = getIndices();
  Value zero = ConstantOp::create(b, loc, RankedTensorType::get({}, indexElement), 0.0);
  Value size = ConstantOp::create(b, loc, RankedTensorType::get({}, indexElement),
                                  static_cast<double>(length));
  auto flags = [&](RankedTensorType like) {
    return RankedTensorType::get(like.getShape(), b.getI1Type());
  };
  Value negative = LessOp::create(b, loc, flags(indexType), index, zero);
  index = gb.select(negative, AddOp::create(b, loc, indexType, index, size), index);
  // [.., k, ..] -> [.., k, 1, ..], compared with the positions [1.., 1, length, 1..].
  SmallVector<int64_t> column(indexType.getShape());
  column.insert(column.begin() + axis + 1, 1);
  SmallVector<int64_t> oneHotShape(column);
  oneHotShape[axis + 1] = length;
  SmallVector<int64_t> positionsShape(rank + 1, 1);
  positionsShape[axis + 1] = length;
  SmallVector<Attribute> positions;
  for (int64_t m = 0; m < length; ++m)
    positions.push_back(IntegerAttr::get(indexElement, m));
  auto positionsType = RankedTensorType::get(positionsShape, indexElement);
  Value positionValues =
      ConstantOp::create(b, loc, DenseElementsAttr::get(positionsType, positions));
  auto columnOf = [&](Value v) {
    auto type = typeOf(v);
    return ReshapeOp::create(b, loc, RankedTensorType::get(column, type.getElementType()), v)
        .getResult();
  };
  auto oneHotType = RankedTensorType::get(oneHotShape, b.getI1Type());
  Value hits = EqualOp::create(b, loc, oneHotType, columnOf(index), positionValues);
  auto gradientType = RankedTensorType::get(oneHotShape, inputType.getElementType());
  Value spread = BroadcastToOp::create(b, loc, gradientType, columnOf(gb.resultGradient()));
  Value picked = gb.select(hits, spread, gb.scalar(spread, 0.0));
  gb.setExact(0, ReduceSumOp::create(b, loc, inputType, picked, b.getDenseI64ArrayAttr({axis}),
                                     UnitAttr()));
  return success();
}

//===----------------------------------------------------------------------===//
// Communication (Megatron's conjugate operators): the backward of a gather is a slice, of a
// sum over ranks the identity, of a slice a gather.
//===----------------------------------------------------------------------===//

LogicalResult AllReduceOp::buildGradients(GradientBuilder &gb) {
  gb.setExact(0, gb.resultGradient());
  return success();
}

LogicalResult AllGatherOp::buildGradients(GradientBuilder &gb) {
  if (gb.needed(0))
    gb.setExact(0, ShardSliceOp::create(gb.builder(), gb.getLoc(), getInput().getType(),
                                        gb.resultGradient(), getAxisAttr(),
                                        gb.builder().getI64IntegerAttr(1), getGroupAttr()));
  return success();
}

LogicalResult ReduceScatterOp::buildGradients(GradientBuilder &gb) {
  if (gb.needed(0))
    gb.setExact(0, AllGatherOp::create(gb.builder(), gb.getLoc(), getInput().getType(),
                                       gb.resultGradient(), getAxisAttr(), getGroupAttr()));
  return success();
}

LogicalResult ShardSliceOp::buildGradients(GradientBuilder &gb) {
  if (getGroups() != 1)
    return gb.noRule();
  if (!gb.needed(0))
    return success();
  OpBuilder &b = gb.builder();
  Value gathered = AllGatherOp::create(b, gb.getLoc(), getInput().getType(), gb.resultGradient(),
                                       getAxisAttr(), getGroupAttr());
  // A whole value split over the batch (dp): each rank's loss is its share's mean and the
  // optimizer averages the ranks' gradients, so a rank's part of the gathered gradient
  // counts 1/dp (the microbatch axis is resolved by the pipeline build).
  std::optional<int64_t> ranks = getMeshAxisSize(*this, getGroup());
  if (getGroup() == "dp" && ranks && *ranks > 1)
    gathered = MulOp::create(
        b, gb.getLoc(), getInput().getType(), gathered,
        ConstantOp::create(b, gb.getLoc(),
                           RankedTensorType::get({}, typeOf(getInput()).getElementType()),
                           1.0 / double(*ranks)));
  gb.setExact(0, gathered);
  return success();
}

LogicalResult ShardGatherOp::buildGradients(GradientBuilder &gb) {
  // This rank's rows of the whole table's gradient.
  RankedTensorType local = typeOf(getInput());
  std::optional<int64_t> ranks = getMeshAxisSize(*this, getGroup());
  if (!ranks || !local.getElementType().isF32())
    return gb.noRule();
  if (!gb.needed(0))
    return success();
  SmallVector<int64_t> shape(local.getShape());
  shape[getAxis()] *= *ranks;
  Value whole = ScatterAddOp::create(gb.builder(), gb.getLoc(),
                                     RankedTensorType::get(shape, local.getElementType()),
                                     gb.resultGradient(), getIndices(), getAxisAttr());
  gb.setExact(0, ShardSliceOp::create(gb.builder(), gb.getLoc(), local, whole, getAxisAttr(),
                                      gb.builder().getI64IntegerAttr(1), getGroupAttr()));
  return success();
}

//===----------------------------------------------------------------------===//
// Asking an op for its rule
//===----------------------------------------------------------------------===//

LogicalResult mlir::parc::buildOperandGradients(OpBuilder &builder, Operation *op, Value g,
                                                ArrayRef<bool> needed,
                                                SmallVectorImpl<Value> &operandGradients) {
  auto rule = dyn_cast<GradientOpInterface>(op);
  if (!rule)
    return op->emitError("no gradient rule for '") << op->getName() << "'";
  GradientBuilder gb(builder, op, g, needed);
  if (failed(rule.buildGradients(gb)))
    return failure();
  operandGradients.assign(gb.gradients().begin(), gb.gradients().end());
  return success();
}
