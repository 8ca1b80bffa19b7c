//===- ParcOps.h - parc dialect operations ----------------------*- C++ -*-===//
//
// Declares the operations of the parc dialect (generated from ParcOps.td) and the shared
// verification helpers their generated verifiers call.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCOPS_H
#define PARC_DIALECT_PARC_IR_PARCOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "parc/Dialect/Parc/IR/ParcAttrs.h"
#include "parc/Dialect/Parc/IR/ParcDialect.h"

namespace mlir::parc {
/// Verifies an elementwise op whose operands broadcast numpy-style to its result.
llvm::LogicalResult verifyBroadcastingOp(Operation *op);
/// The number of ranks along `axis` ("dp", "pp" or "tp") of the mesh of the module holding
/// `op` (its `parc.mesh` dictionary), or std::nullopt when the module has no mesh.
std::optional<int64_t> getMeshAxisSize(Operation *op, llvm::StringRef axis);
/// Attribute of a module holding its mesh: {dp = D, pp = P, tp = T}.
constexpr llvm::StringLiteral kMeshAttr = "parc.mesh";
/// The layout the planner chose for a weight of the unpartitioned program (the weight's
/// inherent `sharding` is set only once the program is partitioned).
constexpr llvm::StringLiteral kPlannedShardingAttr = "parc.plan";
/// Verifies the axes and result shape of a reduction.
llvm::LogicalResult verifyReduceOp(Operation *op, llvm::ArrayRef<int64_t> axes,
                                   bool keepDims);
} // namespace mlir::parc

#define GET_OP_CLASSES
#include "parc/Dialect/Parc/IR/ParcOps.h.inc"

#endif // PARC_DIALECT_PARC_IR_PARCOPS_H
