//===- GradientRules.cpp - the adjoint of each parc op --------------------===//
//
// One rule per differentiable op; see GradientRules.h. Each rule is the textbook adjoint
// written in parc ops (x: operand, y: result, g: the result's gradient).
//
//===----------------------------------------------------------------------===//

#include "Training/GradientRules.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::parc;

namespace {

RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// The numpy broadcast of two shapes (they are known to be compatible).
SmallVector<int64_t> broadcastShapes(ArrayRef<int64_t> l, ArrayRef<int64_t> r) {
  size_t rank = std::max(l.size(), r.size());
  SmallVector<int64_t> shape(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i + l.size() >= rank ? l[i + l.size() - rank] : 1;
    int64_t c = i + r.size() >= rank ? r[i + r.size() - rank] : 1;
    shape[i] = a == 1 ? c : a;
  }
  return shape;
}

/// Builds parc ops of one rule: small helpers that keep the rules readable.
class GradientBuilder {
public:
  GradientBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  /// A rank-0 literal of `like`'s element type (it broadcasts against anything).
  Value scalar(Value like, double value) {
    return ConstantOp::create(b, loc, RankedTensorType::get({}, typeOf(like).getElementType()),
                              value);
  }
  Value zerosLike(Value like) { return ConstantOp::create(b, loc, typeOf(like), 0.0); }
  /// Elementwise arithmetic; the result takes the broadcast of both shapes.
  template <typename OpTy> Value binary(Value lhs, Value rhs) {
    SmallVector<int64_t> shape = broadcastShapes(typeOf(lhs).getShape(), typeOf(rhs).getShape());
    return OpTy::create(b, loc, RankedTensorType::get(shape, typeOf(lhs).getElementType()),
                        lhs, rhs);
  }
  Value add(Value l, Value r) { return binary<AddOp>(l, r); }
  Value sub(Value l, Value r) { return binary<SubOp>(l, r); }
  Value mul(Value l, Value r) { return binary<MulOp>(l, r); }
  Value div(Value l, Value r) { return binary<DivOp>(l, r); }
  template <typename OpTy> Value unary(Value x) {
    return OpTy::create(b, loc, x.getType(), x);
  }
  Value greaterThanZero(Value x) {
    RankedTensorType type = typeOf(x);
    return GreaterOp::create(b, loc, RankedTensorType::get(type.getShape(), b.getI1Type()),
                             x, scalar(x, 0.0));
  }
  Value select(Value condition, Value onTrue, Value onFalse) {
    return SelectOp::create(b, loc, onTrue.getType(), condition, onTrue, onFalse);
  }
  /// Sums `x` over `axis`, keeping it as a dim of size 1.
  Value sumKeep(Value x, int64_t axis) {
    SmallVector<int64_t> shape(typeOf(x).getShape());
    shape[axis] = 1;
    return ReduceSumOp::create(b, loc, RankedTensorType::get(shape, typeOf(x).getElementType()),
                               x, b.getDenseI64ArrayAttr({axis}), b.getUnitAttr());
  }
  Value transposeLastTwo(Value x) {
    int64_t rank = typeOf(x).getRank();
    SmallVector<int64_t> permutation(rank);
    std::iota(permutation.begin(), permutation.end(), 0);
    std::swap(permutation[rank - 1], permutation[rank - 2]);
    SmallVector<int64_t> shape(typeOf(x).getShape());
    std::swap(shape[rank - 1], shape[rank - 2]);
    return TransposeOp::create(b, loc, RankedTensorType::get(shape, typeOf(x).getElementType()),
                               x, b.getDenseI64ArrayAttr(permutation));
  }
  /// Batched matmul of [..., m, k] and [..., k, n] with numpy batch broadcasting.
  Value matmul(Value lhs, Value rhs) {
    ArrayRef<int64_t> l = typeOf(lhs).getShape(), r = typeOf(rhs).getShape();
    SmallVector<int64_t> shape = broadcastShapes(l.drop_back(2), r.drop_back(2));
    shape.append({l[l.size() - 2], r.back()});
    return MatMulOp::create(b, loc, RankedTensorType::get(shape, typeOf(lhs).getElementType()),
                            lhs, rhs);
  }

  OpBuilder &b;
  Location loc;
};

} // namespace

Value mlir::parc::sumToShape(OpBuilder &b, Location loc, Value gradient,
                             RankedTensorType target) {
  RankedTensorType type = typeOf(gradient);
  if (type.getShape() == target.getShape())
    return gradient;
  int64_t rank = type.getRank(), offset = rank - target.getRank();
  SmallVector<int64_t> axes, kept;
  for (int64_t d = 0; d < rank; ++d) {
    bool broadcast = d < offset || (target.getDimSize(d - offset) == 1 && type.getDimSize(d) != 1);
    if (broadcast)
      axes.push_back(d);
    else
      kept.push_back(type.getDimSize(d));
  }
  Value summed = gradient;
  if (!axes.empty())
    summed = ReduceSumOp::create(b, loc, RankedTensorType::get(kept, type.getElementType()),
                                 gradient, b.getDenseI64ArrayAttr(axes), UnitAttr());
  if (typeOf(summed).getShape() == target.getShape())
    return summed;
  return ReshapeOp::create(b, loc, target, summed);
}

LogicalResult mlir::parc::buildOperandGradients(OpBuilder &b, Operation *op, Value g,
                                                ArrayRef<bool> needed,
                                                SmallVectorImpl<Value> &grads) {
  Location loc = op->getLoc();
  GradientBuilder gb(b, loc);
  grads.assign(op->getNumOperands(), Value());
  auto set = [&](unsigned i, Value gradient) {
    if (needed[i])
      grads[i] = sumToShape(b, loc, gradient, typeOf(op->getOperand(i)));
  };
  Value y = op->getNumResults() == 1 ? op->getResult(0) : Value();
  auto x = [&](unsigned i) { return op->getOperand(i); };
  bool handled = true;
  TypeSwitch<Operation *>(op)
      .Case<AddOp>([&](auto) {
        set(0, g);
        set(1, g);
      })
      .Case<SubOp>([&](auto) {
        set(0, g);
        if (needed[1])
          set(1, gb.unary<NegOp>(g));
      })
      .Case<MulOp>([&](auto) {
        if (needed[0])
          set(0, gb.mul(g, x(1)));
        if (needed[1])
          set(1, gb.mul(g, x(0)));
      })
      .Case<DivOp>([&](auto) {
        // y = a / b: da = g / b, db = -g * y / b.
        if (needed[0])
          set(0, gb.div(g, x(1)));
        if (needed[1])
          set(1, gb.unary<NegOp>(gb.div(gb.mul(g, y), x(1))));
      })
      .Case<PowOp>([&](auto) {
        // y = a ^ p: da = g * p * a ^ (p - 1), dp = g * y * log(a).
        if (needed[0]) {
          Value exponent = gb.sub(x(1), gb.scalar(x(1), 1.0));
          set(0, gb.mul(gb.mul(g, x(1)), gb.binary<PowOp>(x(0), exponent)));
        }
        if (needed[1])
          set(1, gb.mul(gb.mul(g, y), gb.unary<LogOp>(x(0))));
      })
      .Case<NegOp>([&](auto) { set(0, gb.unary<NegOp>(g)); })
      .Case<ReluOp>([&](auto) {
        set(0, gb.select(gb.greaterThanZero(x(0)), g, gb.zerosLike(g)));
      })
      .Case<ExpOp>([&](auto) { set(0, gb.mul(g, y)); })
      .Case<LogOp>([&](auto) { set(0, gb.div(g, x(0))); })
      .Case<SqrtOp>([&](auto) { set(0, gb.div(gb.mul(g, gb.scalar(g, 0.5)), y)); })
      .Case<ReciprocalOp>([&](auto) { set(0, gb.unary<NegOp>(gb.mul(gb.mul(g, y), y))); })
      .Case<TanhOp>([&](auto) {
        set(0, gb.mul(g, gb.sub(gb.scalar(y, 1.0), gb.mul(y, y))));
      })
      .Case<SigmoidOp>([&](auto) {
        set(0, gb.mul(gb.mul(g, y), gb.sub(gb.scalar(y, 1.0), y)));
      })
      .Case<SinOp>([&](auto) { set(0, gb.mul(g, gb.unary<CosOp>(x(0)))); })
      .Case<CosOp>([&](auto) { set(0, gb.unary<NegOp>(gb.mul(g, gb.unary<SinOp>(x(0))))); })
      .Case<ErfOp>([&](auto) {
        // d erf(x) = 2 / sqrt(pi) * exp(-x^2).
        Value square = gb.mul(x(0), x(0));
        Value bump = gb.unary<ExpOp>(gb.unary<NegOp>(square));
        set(0, gb.mul(g, gb.mul(bump, gb.scalar(g, 2.0 / std::sqrt(M_PI)))));
      })
      .Case<GeluOp>([&](GeluOp gelu) {
        Value v = x(0);
        Value derivative;
        if (gelu.getTanhApproximation()) {
          // 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2), t = tanh(c (x + k x^3)).
          double c = std::sqrt(2.0 / M_PI), k = 0.044715;
          Value square = gb.mul(v, v);
          Value inner = gb.mul(gb.scalar(v, c),
                               gb.add(v, gb.mul(gb.scalar(v, k), gb.mul(square, v))));
          Value t = gb.unary<TanhOp>(inner);
          Value left = gb.mul(gb.scalar(v, 0.5), gb.add(gb.scalar(v, 1.0), t));
          Value slope = gb.mul(gb.scalar(v, c),
                               gb.add(gb.scalar(v, 1.0), gb.mul(gb.scalar(v, 3 * k), square)));
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
        set(0, gb.mul(g, derivative));
      })
      .Case<SelectOp>([&](SelectOp select) {
        Value zeros = gb.zerosLike(g);
        if (needed[1])
          set(1, gb.select(select.getCondition(), g, zeros));
        if (needed[2])
          set(2, gb.select(select.getCondition(), zeros, g));
      })
      .Case<ConvertOp>([&](ConvertOp convert) {
        if (isa<FloatType>(typeOf(convert.getInput()).getElementType()))
          set(0, ConvertOp::create(b, loc, convert.getInput().getType(), g));
      })
      .Case<MatMulOp>([&](MatMulOp) {
        if (typeOf(x(0)).getRank() < 2 || typeOf(x(1)).getRank() < 2) {
          handled = false;
          return;
        }
        // y = a b: da = g b^T, db = a^T g (batch dims summed back by set).
        if (needed[0])
          set(0, gb.matmul(g, gb.transposeLastTwo(x(1))));
        if (needed[1])
          set(1, gb.matmul(gb.transposeLastTwo(x(0)), g));
      })
      .Case<ReduceSumOp, ReduceMeanOp>([&](auto reduce) {
        RankedTensorType input = typeOf(reduce.getInput());
        SmallVector<int64_t> kept(input.getShape());
        double count = 1;
        for (int64_t axis : reduce.getAxes()) {
          kept[axis] = 1;
          count *= input.getDimSize(axis);
        }
        Value spread = g;
        if (!reduce.getKeepDims())
          spread = ReshapeOp::create(b, loc, RankedTensorType::get(kept, input.getElementType()), g);
        spread = BroadcastToOp::create(b, loc, input, spread);
        if (isa<ReduceMeanOp>(reduce.getOperation()))
          spread = gb.mul(spread, gb.scalar(spread, 1.0 / count));
        set(0, spread);
      })
      .Case<SoftmaxOp>([&](SoftmaxOp softmax) {
        // dx = y (g - sum(g y)).
        Value dot = gb.sumKeep(gb.mul(g, y), softmax.getAxis());
        set(0, gb.mul(y, gb.sub(g, dot)));
      })
      .Case<LogSoftmaxOp>([&](LogSoftmaxOp logSoftmax) {
        // dx = g - exp(y) sum(g).
        Value total = gb.sumKeep(g, logSoftmax.getAxis());
        set(0, gb.sub(g, gb.mul(gb.unary<ExpOp>(y), total)));
      })
      .Case<ReshapeOp>([&](ReshapeOp reshape) {
        set(0, ReshapeOp::create(b, loc, reshape.getInput().getType(), g));
      })
      .Case<TransposeOp>([&](TransposeOp transpose) {
        ArrayRef<int64_t> permutation = transpose.getPermutation();
        SmallVector<int64_t> inverse(permutation.size());
        for (auto [i, p] : llvm::enumerate(permutation))
          inverse[p] = i;
        set(0, TransposeOp::create(b, loc, transpose.getInput().getType(), g,
                                   b.getDenseI64ArrayAttr(inverse)));
      })
      .Case<BroadcastToOp>([&](BroadcastToOp) { set(0, g); })
      .Case<ConcatOp>([&](ConcatOp concat) {
        int64_t axis = concat.getAxis(), offset = 0;
        for (auto [i, input] : llvm::enumerate(concat.getInputs())) {
          RankedTensorType type = typeOf(input);
          if (needed[i]) {
            SmallVector<int64_t> starts(type.getRank(), 0), strides(type.getRank(), 1);
            SmallVector<int64_t> limits(typeOf(g).getShape());
            starts[axis] = offset;
            limits[axis] = offset + type.getDimSize(axis);
            set(i, SliceOp::create(b, loc, type, g, b.getDenseI64ArrayAttr(starts),
                                   b.getDenseI64ArrayAttr(limits),
                                   b.getDenseI64ArrayAttr(strides)));
          }
          offset += type.getDimSize(axis);
        }
      })
      .Case<SliceOp>([&](SliceOp slice) {
        // Zeros around the slice, dim by dim (unit strides only).
        if (llvm::any_of(slice.getStrides(), [](int64_t s) { return s != 1; })) {
          handled = false;
          return;
        }
        RankedTensorType input = typeOf(slice.getInput());
        Value padded = g;
        for (int64_t d = 0; d < input.getRank(); ++d) {
          int64_t start = slice.getStartIndices()[d], limit = slice.getLimitIndices()[d];
          int64_t size = input.getDimSize(d);
          if (start == 0 && limit == size)
            continue;
          SmallVector<Value> pieces;
          auto zeros = [&](int64_t count) {
            SmallVector<int64_t> shape(typeOf(padded).getShape());
            shape[d] = count;
            return ConstantOp::create(
                b, loc, RankedTensorType::get(shape, input.getElementType()), 0.0);
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
        set(0, padded);
      })
      .Case<GatherOp>([&](GatherOp gather) {
        if (!typeOf(gather.getInput()).getElementType().isF32()) {
          handled = false;
          return;
        }
        if (needed[0])
          grads[0] = ScatterAddOp::create(b, loc, gather.getInput().getType(), g,
                                          gather.getIndices(), gather.getAxisAttr());
      })
      // Collectives (Megatron's conjugate operators): the backward of a gather is a
      // slice, of a sum over ranks the identity, of a slice a gather.
      .Case<AllReduceOp>([&](auto) { grads[0] = needed[0] ? g : Value(); })
      .Case<AllGatherOp>([&](AllGatherOp gather) {
        if (needed[0])
          grads[0] = ShardSliceOp::create(b, loc, gather.getInput().getType(), g,
                                          gather.getAxisAttr(), b.getI64IntegerAttr(1),
                                          gather.getGroupAttr());
      })
      .Case<ReduceScatterOp>([&](ReduceScatterOp scatter) {
        if (needed[0])
          grads[0] = AllGatherOp::create(b, loc, scatter.getInput().getType(), g,
                                         scatter.getAxisAttr(), scatter.getGroupAttr());
      })
      .Case<ShardSliceOp>([&](ShardSliceOp slice) {
        if (slice.getGroups() != 1) {
          handled = false;
          return;
        }
        if (!needed[0])
          return;
        grads[0] = AllGatherOp::create(b, loc, slice.getInput().getType(), g,
                                       slice.getAxisAttr(), slice.getGroupAttr());
        // A whole value split over the batch (dp): each rank's loss is its share's mean and
        // the optimizer averages the ranks' gradients, so a rank's part of the gathered
        // gradient counts 1/dp (the microbatch axis is resolved by the pipeline build).
        std::optional<int64_t> ranks = getMeshAxisSize(op, slice.getGroup());
        if (slice.getGroup() == "dp" && ranks && *ranks > 1)
          grads[0] = MulOp::create(
              b, loc, slice.getInput().getType(), grads[0],
              ConstantOp::create(b, loc,
                                 RankedTensorType::get({}, typeOf(slice.getInput()).getElementType()),
                                 1.0 / double(*ranks)));
      })
      .Case<ShardGatherOp>([&](ShardGatherOp gather) {
        // This rank's rows of the whole table's gradient.
        RankedTensorType local = typeOf(gather.getInput());
        std::optional<int64_t> ranks = getMeshAxisSize(op, gather.getGroup());
        if (!ranks || !local.getElementType().isF32()) {
          handled = false;
          return;
        }
        if (!needed[0])
          return;
        SmallVector<int64_t> shape(local.getShape());
        shape[gather.getAxis()] *= *ranks;
        Value whole = ScatterAddOp::create(b, loc, RankedTensorType::get(shape, local.getElementType()),
                                           g, gather.getIndices(), gather.getAxisAttr());
        grads[0] = ShardSliceOp::create(b, loc, local, whole, gather.getAxisAttr(),
                                        b.getI64IntegerAttr(1), gather.getGroupAttr());
      })
      .Default([&](Operation *) { handled = false; });
  if (!handled)
    return op->emitError("no gradient rule for '") << op->getName() << "'";
  return success();
}
