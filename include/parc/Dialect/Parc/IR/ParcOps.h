//===- ParcOps.h - parc dialect operations ----------------------*- C++ -*-===//
//
// Declares the operations of the parc dialect (generated from ParcOps.td), the shared
// verification helpers their generated verifiers call, and the names of the attributes
// passes attach to ops.
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
#include "parc/Dialect/Parc/IR/ParcDiscardableAttrs.h"
#include "parc/Dialect/Parc/IR/ParcInterfaces.h"

namespace mlir::parc {
/// Verifies an elementwise op whose operands broadcast numpy-style to its result.
llvm::LogicalResult verifyBroadcastingOp(Operation *op);
/// The number of ranks along `axis` ("dp", "pp" or "tp") of the mesh of the module holding
/// `op` (its `parc.mesh` dictionary), or std::nullopt when the module has no mesh.
std::optional<int64_t> getMeshAxisSize(Operation *op, llvm::StringRef axis);
/// Bytes of one element of `element` as parc stores it (and ONNX's raw_data): i1 takes a
/// byte.
int64_t getElementStorageBytes(Type element);
/// Bytes of a whole tensor of `type` as parc stores it.
int64_t getStorageBytes(RankedTensorType type);
/// Verifies the axes and result shape of a reduction.
llvm::LogicalResult verifyReduceOp(Operation *op, llvm::ArrayRef<int64_t> axes,
                                   bool keepDims);
} // namespace mlir::parc

#define GET_OP_CLASSES
#include "parc/Dialect/Parc/IR/ParcOps.h.inc"

#endif // PARC_DIALECT_PARC_IR_PARCOPS_H
