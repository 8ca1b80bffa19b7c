//===- ParcDiscardableAttrs.h - state passes share on the IR ----*- C++ -*-===//
//
// The discardable `parc.*` attributes: the state one pass leaves on the IR for a later
// pass, the artifact writer or the report. Every pass names them through these constants,
// and the dialect verifies each one's kind and place (ParcDiscardableAttrs.cpp): an unknown
// `parc.*` name, a wrong kind, or an attribute on the wrong kind of op fails verification
// naming the attribute. docs/architecture.md lists which pass sets and which reads each.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCDISCARDABLEATTRS_H
#define PARC_DIALECT_PARC_IR_PARCDISCARDABLEATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::parc {

//===----------------------------------------------------------------------===//
// On the module
//===----------------------------------------------------------------------===//

/// The device mesh: {dp = D, pp = P, tp = T} (parc-set-mesh).
constexpr llvm::StringLiteral kMeshAttr = "parc.mesh";
/// The pipeline plan of a module whose @main was cut into stages (a dictionary; see the
/// parc-build-pipeline pass).
constexpr llvm::StringLiteral kPipelinePlanAttr = "parc.pipeline";

//===----------------------------------------------------------------------===//
// On @main or a stage function
//===----------------------------------------------------------------------===//

/// The number of microbatches, after the microbatch split.
constexpr llvm::StringLiteral kMicrobatchesAttr = "parc.microbatches";
/// @main's function type for the whole batch, after the microbatch split.
constexpr llvm::StringLiteral kWholeBatchTypeAttr = "parc.whole_batch_type";
/// The stage partitioner's modelled seconds and incoming bytes per stage, and the
/// imbalance (slowest / mean) of the cut.
constexpr llvm::StringLiteral kStageSecondsAttr = "parc.stage_seconds";
constexpr llvm::StringLiteral kStageIncomingBytesAttr = "parc.stage_incoming_bytes";
constexpr llvm::StringLiteral kStageImbalanceAttr = "parc.stage_imbalance";
/// A stage function's graph outputs: for each of its results, the index of the graph output
/// it holds.
constexpr llvm::StringLiteral kOutputsAttr = "parc.outputs";
/// A training step (parc-apply-optimizer): parc-run runs it --steps times.
constexpr llvm::StringLiteral kTrainingAttr = "parc.training";
/// The activation arena a function needs, in bytes (parc-plan-buffers).
constexpr llvm::StringLiteral kArenaBytesAttr = "parc.arena_bytes";

//===----------------------------------------------------------------------===//
// On @main's arguments and results
//===----------------------------------------------------------------------===//

/// The graph's (ONNX) names.
constexpr llvm::StringLiteral kOnnxNameAttr = "parc.name";
/// After the microbatch split: how the whole batch's value is laid out over the
/// microbatches (a ShardingAttr; split(0) for inputs that carry the batch).
constexpr llvm::StringLiteral kMicrobatchLayoutAttr = "parc.microbatch_layout";
/// On a gradient result of parc-differentiate whose weight (or argument) the loss does not
/// reach: the gradient is zeros, and an optimizer leaves the weight alone.
constexpr llvm::StringLiteral kUnreachedGradientAttr = "parc.unreached";

//===----------------------------------------------------------------------===//
// On weights (parc.weight)
//===----------------------------------------------------------------------===//

/// The layout the planner chose for a weight of the unpartitioned program (the weight's
/// inherent `sharding` is set only once the program is partitioned).
constexpr llvm::StringLiteral kPlannedShardingAttr = "parc.plan";
/// An optimizer state weight (momentum, Adam's moments).
constexpr llvm::StringLiteral kOptimizerStateAttr = "parc.optimizer_state";
/// On an optimizer state weight: the name of the weight it belongs to.
constexpr llvm::StringLiteral kStateOfAttr = "parc.state_of";
/// On a weight split over the dp ranks along dim 0 (ZeRO-1's optimizer state): each dp rank
/// holds its part.
constexpr llvm::StringLiteral kDataParallelSplitAttr = "parc.dp_split";

//===----------------------------------------------------------------------===//
// On ops inside functions
//===----------------------------------------------------------------------===//

/// parc-propagate-sharding's result (for inspection): the layout of the op's result and the
/// layouts its operands are resharded to.
constexpr llvm::StringLiteral kShardingAttr = "parc.sharding";
constexpr llvm::StringLiteral kReshardAttr = "parc.reshard";
/// On an op of a tensor-parallel program whose result is not replicated over the tp ranks:
/// its layout (a ShardingAttr), as the partition decided it.
constexpr llvm::StringLiteral kTensorParallelLayoutAttr = "parc.tp_layout";
/// parc-differentiate's link from each backward op to the forward op whose rule built it:
/// the forward op carries `parc.op_id`, the backward ops `parc.adjoint_of` with that id
/// (the pipeline build runs a backward op in the chunk of its forward op).
constexpr llvm::StringLiteral kOpIdAttr = "parc.op_id";
constexpr llvm::StringLiteral kAdjointOfAttr = "parc.adjoint_of";
/// On the forward ops of the training step the layout search prices (its copy of @main
/// with the loss and the backward pass): the op's position in the forward @main it was
/// copied from, so that each backward op is priced where its forward op runs.
constexpr llvm::StringLiteral kForwardIndexAttr = "parc.forward_index";
/// The pipeline stage of an op (parc-assign-pipeline-stages) or of a stage function.
constexpr llvm::StringLiteral kStageAttr = "parc.stage";
/// Where an op of a stage function runs in the schedule: the chunk and microbatch of its
/// step, and whether the step is a backward one.
constexpr llvm::StringLiteral kChunkAttr = "parc.chunk";
constexpr llvm::StringLiteral kMicrobatchAttr = "parc.microbatch";
constexpr llvm::StringLiteral kBackwardStepAttr = "parc.backward";
/// On the ops a backward step computes again (activation recomputation).
constexpr llvm::StringLiteral kRecomputedAttr = "parc.recomputed";
/// The arena offset of an op's result, or of each of its results (parc-plan-buffers).
constexpr llvm::StringLiteral kOffsetAttr = "parc.offset";
constexpr llvm::StringLiteral kOffsetsAttr = "parc.offsets";

/// Checks a discardable `parc.*` attribute `attr` found on `op` (or, with `where` set to
/// "argument" or "result", on one of its function's arguments or results): that the name
/// is one of the above, that its value has the declared kind and that it sits where it
/// belongs. Called by the dialect's verifyOperationAttribute and
/// verifyRegion{Arg,Result}Attribute hooks.
LogicalResult verifyDiscardableAttribute(Operation *op, NamedAttribute attr,
                                         llvm::StringRef where);

} // namespace mlir::parc

#endif // PARC_DIALECT_PARC_IR_PARCDISCARDABLEATTRS_H
