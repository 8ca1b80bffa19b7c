//===- ParcInterfaces.h - what each op knows about itself -------*- C++ -*-===//
//
// The op interfaces of ParcInterfaces.td (sharding, gradient, cost), the values they
// exchange, and the traits with which an op declares that it has no such rule. Every
// analysis and transformation asks ops through these, never by name.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCINTERFACES_H
#define PARC_DIALECT_PARC_IR_PARCINTERFACES_H

#include "parc/Dialect/Parc/IR/ParcAttrs.h"

#include "mlir/IR/OpDefinition.h"

namespace mlir::parc {

class GradientBuilder;

/// How one op runs over the tensor-parallel ranks: the layout each operand must have (the
/// given one, or a reshard of it) and the layout of its result.
struct ShardingDecision {
  SmallVector<ShardingAttr> operands;
  ShardingAttr result;
};

/// What one op costs: its arithmetic and the bytes it moves (whole tensors, one rank).
struct OpCost {
  double flops = 0;
  double bytesRead = 0;
  double bytesWritten = 0;
};

/// The default cost: one operation per result element, every operand read and every
/// result written once.
OpCost elementwiseCost(Operation *op);

/// What `op` costs (its CostOpInterface; nothing for ops of other dialects, such as
/// func.return). The one count every planner and report uses.
OpCost getOpCost(Operation *op);

/// Declares that the op runs on whole tensors only (every operand and the result
/// replicated over the tensor-parallel ranks).
template <typename ConcreteType>
class ReplicatedSharding : public OpTrait::TraitBase<ConcreteType, ReplicatedSharding> {};

/// Declares that the op is elementwise and fusible into a generated kernel.
template <typename ConcreteType>
class ElementwiseKernel : public OpTrait::TraitBase<ConcreteType, ElementwiseKernel> {};

/// Declares that the op's results carry no gradient (booleans, integers, declarations,
/// ops that exist only after the backward pass).
template <typename ConcreteType>
class NoGradient : public OpTrait::TraitBase<ConcreteType, NoGradient> {};

/// Declares that the op is differentiable in principle but parc has no rule for it yet:
/// differentiating through it is an error naming it.
template <typename ConcreteType>
class NoGradientRule : public OpTrait::TraitBase<ConcreteType, NoGradientRule> {};

} // namespace mlir::parc

#include "parc/Dialect/Parc/IR/ParcInterfaces.h.inc"

#endif // PARC_DIALECT_PARC_IR_PARCINTERFACES_H
