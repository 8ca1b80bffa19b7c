//===- GradientBuilder.h - building one op's gradients ----------*- C++ -*-===//
//
// What an op's GradientOpInterface::buildGradients works with: the op, the gradient of its
// result, which operands autodiff needs, small builders of parc ops that keep the rules
// readable (x: operand, y: result, g: the result's gradient), and where each operand's
// gradient goes. Broadcast operands get their gradient summed back to their shape.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_GRADIENTBUILDER_H
#define PARC_DIALECT_PARC_IR_GRADIENTBUILDER_H

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {

/// `gradient` (of a broadcast result) summed back to `target`, the shape of the operand
/// that was broadcast.
Value sumToShape(OpBuilder &builder, Location loc, Value gradient, RankedTensorType target);

/// Builds, at `builder`'s insertion point, the gradient of every operand of `op` marked in
/// `needed` from `resultGradient`, the gradient of its (single) result, with the op's
/// GradientOpInterface rule; operands that carry no gradient or are not needed get a null
/// value. Fails with an error at `op` when the op has no rule (or its rule does not cover
/// these operands).
LogicalResult buildOperandGradients(OpBuilder &builder, Operation *op, Value resultGradient,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &operandGradients);

class GradientBuilder {
public:
  /// Builds at `builder`'s insertion point the gradients of `op`'s operands marked in
  /// `needed` from `resultGradient`.
  GradientBuilder(OpBuilder &builder, Operation *op, Value resultGradient,
                  ArrayRef<bool> needed)
      : b(builder), loc(op->getLoc()), op(op), g(resultGradient), neededOperands(needed),
        grads(op->getNumOperands()) {}

  /// The op, its operand i, its (single) result, the result's gradient.
  Operation *getOp() const { return op; }
  Value x(unsigned i) const { return op->getOperand(i); }
  Value y() const { return op->getNumResults() == 1 ? op->getResult(0) : Value(); }
  Value resultGradient() const { return g; }
  /// Whether autodiff needs operand i's gradient.
  bool needed(unsigned i) const { return neededOperands[i]; }

  /// Operand i's gradient, summed back to its shape where it was broadcast; ignored when
  /// not needed.
  void set(unsigned i, Value gradient);
  /// Operand i's gradient as given (the caller built it in the operand's type).
  void setExact(unsigned i, Value gradient) {
    if (needed(i))
      grads[i] = gradient;
  }
  /// The gradients set so far, one per operand (null where none).
  ArrayRef<Value> gradients() const { return grads; }
  /// The error of a rule that does not cover this use of the op ("no gradient rule").
  LogicalResult noRule();

  /// A rank-0 literal of `like`'s element type (it broadcasts against anything).
  Value scalar(Value like, double value);
  Value zerosLike(Value like);
  /// Elementwise arithmetic; the result takes the broadcast of both shapes.
  template <typename OpTy> Value binary(Value lhs, Value rhs) {
    return OpTy::create(b, loc, broadcastType(lhs, rhs), lhs, rhs);
  }
  Value add(Value l, Value r) { return binary<AddOp>(l, r); }
  Value sub(Value l, Value r) { return binary<SubOp>(l, r); }
  Value mul(Value l, Value r) { return binary<MulOp>(l, r); }
  Value div(Value l, Value r) { return binary<DivOp>(l, r); }
  template <typename OpTy> Value unary(Value x) { return OpTy::create(b, loc, x.getType(), x); }
  /// x > 0, as a boolean tensor.
  Value greaterThanZero(Value x);
  Value select(Value condition, Value onTrue, Value onFalse);
  /// Sums `x` over `axis`, keeping it as a dim of size 1.
  Value sumKeep(Value x, int64_t axis);
  Value transposeLastTwo(Value x);
  /// Batched matmul of [..., m, k] and [..., k, n] with numpy batch broadcasting.
  Value matmul(Value lhs, Value rhs);

  OpBuilder &builder() { return b; }
  Location getLoc() const { return loc; }

private:
  RankedTensorType broadcastType(Value lhs, Value rhs) const;

  OpBuilder &b;
  Location loc;
  Operation *op;
  Value g;
  ArrayRef<bool> neededOperands;
  SmallVector<Value> grads;
};

} // namespace mlir::parc

#endif // PARC_DIALECT_PARC_IR_GRADIENTBUILDER_H
