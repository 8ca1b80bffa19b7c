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
#include "parc/Dialect/Parc/IR/ParcInterfaces.h"

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
/// Bytes of one element of `element` as parc stores it (and ONNX's raw_data): i1 takes a
/// byte.
int64_t getElementStorageBytes(Type element);
/// Bytes of a whole tensor of `type` as parc stores it.
int64_t getStorageBytes(RankedTensorType type);
/// Attribute on @main's arguments and results holding the graph's (ONNX) names.
constexpr llvm::StringLiteral kOnnxNameAttr = "parc.name";
/// Attribute of @main after the microbatch split: the number of microbatches.
constexpr llvm::StringLiteral kMicrobatchesAttr = "parc.microbatches";
/// Attribute on @main's arguments and results after the microbatch split: how the whole
/// batch's value is laid out over the microbatches (a ShardingAttr; split(0) for inputs
/// that carry the batch).
constexpr llvm::StringLiteral kMicrobatchLayoutAttr = "parc.microbatch_layout";
/// Attribute of @main after the microbatch split: its function type for the whole batch.
constexpr llvm::StringLiteral kWholeBatchTypeAttr = "parc.whole_batch_type";
/// Attribute on a gradient result of parc-differentiate whose weight (or argument) the loss
/// does not reach: the gradient is zeros, and an optimizer leaves the weight alone.
constexpr llvm::StringLiteral kUnreachedGradientAttr = "parc.unreached";
/// Attribute on an op of a tensor-parallel program whose result is not replicated over the
/// tp ranks: its layout (a ShardingAttr), as the partition decided it.
constexpr llvm::StringLiteral kTensorParallelLayoutAttr = "parc.tp_layout";
/// parc-differentiate's link from each backward op to the forward op whose rule built it:
/// the forward op carries `parc.op_id`, the backward ops `parc.adjoint_of` with that id
/// (the pipeline build runs a backward op in the chunk of its forward op).
constexpr llvm::StringLiteral kOpIdAttr = "parc.op_id";
constexpr llvm::StringLiteral kAdjointOfAttr = "parc.adjoint_of";
/// On the ops of a pipeline stage's backward steps (parc.chunk and parc.microbatch name
/// the step).
constexpr llvm::StringLiteral kBackwardStepAttr = "parc.backward";
/// The arena offsets of an op with several results (parc-plan-buffers), in result order.
constexpr llvm::StringLiteral kOffsetsAttr = "parc.offsets";
/// On the ops a backward step computes again (activation recomputation).
constexpr llvm::StringLiteral kRecomputedAttr = "parc.recomputed";
/// On a weight split over the dp ranks along dim 0 (ZeRO-1's optimizer state): each dp
/// rank holds its part.
constexpr llvm::StringLiteral kDataParallelSplitAttr = "parc.dp_split";
/// On an optimizer state weight: the name of the weight it belongs to.
constexpr llvm::StringLiteral kStateOfAttr = "parc.state_of";
/// Attribute of a module whose @main was cut into pipeline stages: the plan (a dictionary;
/// see the parc-build-pipeline pass).
constexpr llvm::StringLiteral kPipelinePlanAttr = "parc.pipeline";
/// Verifies the axes and result shape of a reduction.
llvm::LogicalResult verifyReduceOp(Operation *op, llvm::ArrayRef<int64_t> axes,
                                   bool keepDims);
} // namespace mlir::parc

#define GET_OP_CLASSES
#include "parc/Dialect/Parc/IR/ParcOps.h.inc"

#endif // PARC_DIALECT_PARC_IR_PARCOPS_H
