//===- ParcCosts.cpp - what each parc op costs ----------------------------===//
//
// The CostOpInterface of the parc ops: the elementwise default (one operation per result
// element, operands read and results written once) and the ops that differ from it.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcOps.h"

using namespace mlir;
using namespace mlir::parc;

static double storageBytes(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type ? double(getStorageBytes(type)) : 0.0;
}

OpCost mlir::parc::elementwiseCost(Operation *op) {
  OpCost cost;
  for (Value result : op->getResults())
    if (auto type = dyn_cast<RankedTensorType>(result.getType())) {
      cost.flops += double(type.getNumElements());
      cost.bytesWritten += storageBytes(result);
    }
  for (Value operand : op->getOperands())
    cost.bytesRead += storageBytes(operand);
  return cost;
}

OpCost mlir::parc::getOpCost(Operation *op) {
  if (auto costed = dyn_cast<CostOpInterface>(op))
    return costed.getCost();
  return {};
}

/// A literal costs nothing where it runs: it is part of the program.
OpCost ConstantOp::getCost() { return {}; }

/// A weight is read where it is used: loading it costs nothing.
OpCost LoadWeightOp::getCost() { return {}; }

/// 2 m n k per matrix: each result element is a dot product of length k.
OpCost MatMulOp::getCost() {
  OpCost cost = elementwiseCost(*this);
  cost.flops *= 2.0 * cast<RankedTensorType>(getLhs().getType()).getShape().back();
  return cost;
}

/// What its body's ops cost, with only the region's inputs read and its results written.
OpCost FusedOp::getCost() {
  OpCost cost = elementwiseCost(*this);
  cost.flops = 0;
  for (Operation &op : getBody().front().without_terminator())
    cost.flops += getOpCost(&op).flops;
  return cost;
}
