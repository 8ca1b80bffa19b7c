//===- GradientBuilder.cpp - building one op's gradients ------------------===//

#include "parc/Dialect/Parc/IR/GradientBuilder.h"

#include <numeric>

using namespace mlir;
using namespace mlir::parc;

static RankedTensorType typeOf(Value value) { return cast<RankedTensorType>(value.getType()); }

/// The numpy broadcast of two shapes (they are known to be compatible).
static SmallVector<int64_t> broadcastShapes(ArrayRef<int64_t> l, ArrayRef<int64_t> r) {
  size_t rank = std::max(l.size(), r.size());
  SmallVector<int64_t> shape(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i + l.size() >= rank ? l[i + l.size() - rank] : 1;
    int64_t c = i + r.size() >= rank ? r[i + r.size() - rank] : 1;
    shape[i] = a == 1 ? c : a;
  }
  return shape;
}

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

void GradientBuilder::set(unsigned i, Value gradient) {
  if (needed(i))
    grads[i] = sumToShape(b, loc, gradient, typeOf(op->getOperand(i)));
}

RankedTensorType GradientBuilder::broadcastType(Value lhs, Value rhs) const {
  SmallVector<int64_t> shape = broadcastShapes(typeOf(lhs).getShape(), typeOf(rhs).getShape());
  return RankedTensorType::get(shape, typeOf(lhs).getElementType());
}

Value GradientBuilder::scalar(Value like, double value) {
  return ConstantOp::create(b, loc, RankedTensorType::get({}, typeOf(like).getElementType()),
                            value);
}

Value GradientBuilder::zerosLike(Value like) {
  return ConstantOp::create(b, loc, typeOf(like), 0.0);
}

Value GradientBuilder::greaterThanZero(Value x) {
  RankedTensorType type = typeOf(x);
  return GreaterOp::create(b, loc, RankedTensorType::get(type.getShape(), b.getI1Type()), x,
                           scalar(x, 0.0));
}

Value GradientBuilder::select(Value condition, Value onTrue, Value onFalse) {
  return SelectOp::create(b, loc, onTrue.getType(), condition, onTrue, onFalse);
}

Value GradientBuilder::sumKeep(Value x, int64_t axis) {
  SmallVector<int64_t> shape(typeOf(x).getShape());
  shape[axis] = 1;
  return ReduceSumOp::create(b, loc, RankedTensorType::get(shape, typeOf(x).getElementType()),
                             x, b.getDenseI64ArrayAttr({axis}), b.getUnitAttr());
}

Value GradientBuilder::transposeLastTwo(Value x) {
  int64_t rank = typeOf(x).getRank();
  SmallVector<int64_t> permutation(rank);
  std::iota(permutation.begin(), permutation.end(), 0);
  std::swap(permutation[rank - 1], permutation[rank - 2]);
  SmallVector<int64_t> shape(typeOf(x).getShape());
  std::swap(shape[rank - 1], shape[rank - 2]);
  return TransposeOp::create(b, loc, RankedTensorType::get(shape, typeOf(x).getElementType()),
                             x, b.getDenseI64ArrayAttr(permutation));
}

Value GradientBuilder::matmul(Value lhs, Value rhs) {
  ArrayRef<int64_t> l = typeOf(lhs).getShape(), r = typeOf(rhs).getShape();
  SmallVector<int64_t> shape = broadcastShapes(l.drop_back(2), r.drop_back(2));
  shape.append({l[l.size() - 2], r.back()});
  return MatMulOp::create(b, loc, RankedTensorType::get(shape, typeOf(lhs).getElementType()),
                          lhs, rhs);
}

LogicalResult GradientBuilder::noRule() {
  return op->emitError("no gradient rule for '") << op->getName() << "'";
}
