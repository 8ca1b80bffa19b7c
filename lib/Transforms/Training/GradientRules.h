//===- GradientRules.h - the adjoint of each parc op ------------*- C++ -*-===//
//
// Reverse-mode rules: given an op and the gradient of (the sum of a scalar loss with
// respect to) its result, build the gradients with respect to its operands. Broadcast
// operands get the gradient summed back to their shape.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TRANSFORMS_TRAINING_GRADIENTRULES_H
#define PARC_LIB_TRANSFORMS_TRAINING_GRADIENTRULES_H

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {

/// Builds, at `builder`'s insertion point, the gradient of every operand of `op` marked in
/// `needed` from `resultGradient`, the gradient of its (single) result; operands that carry
/// no gradient or are not needed get a null value. Fails with an error at `op` when the op
/// has no rule (or its rule does not cover these operands).
LogicalResult buildOperandGradients(OpBuilder &builder, Operation *op,
                                    Value resultGradient, ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &operandGradients);

/// `gradient` (of a broadcast result) summed back to `target`, the shape of the operand
/// that was broadcast.
Value sumToShape(OpBuilder &builder, Location loc, Value gradient, RankedTensorType target);

} // namespace mlir::parc

#endif // PARC_LIB_TRANSFORMS_TRAINING_GRADIENTRULES_H
