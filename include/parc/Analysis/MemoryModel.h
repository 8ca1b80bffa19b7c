//===- MemoryModel.h - the bytes one rank holds during a training step -*- C++ -*-===//
//
// The memory a rank needs for a plan, term by term, so that a plan that does not fit can
// say which term overflows: the weights, their gradients and the optimizer state (sharded
// over the data-parallel ranks by ZeRO-1), the activations microbatches in flight keep for
// the backward pass (how many are in flight follows the schedule; which activations are
// kept follows the recompute choice), and the working memory of the op running now (the
// arena's peak beyond what is kept).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_MEMORYMODEL_H
#define PARC_ANALYSIS_MEMORYMODEL_H

#include "parc/Analysis/PipelineSchedule.h"

#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::parc {

/// The element type a run computes in: f32 throughout, or 16-bit mixed precision (f32
/// master weights and optimizer state, 16-bit weights, gradients and activations).
enum class ComputePrecision { F32, F16, BF16 };

/// Parses `--mixed-precision`'s value ("" is f32).
std::optional<ComputePrecision> parseComputePrecision(llvm::StringRef name);
llvm::StringRef computePrecisionName(ComputePrecision precision);
/// Bytes of one activation, weight or gradient element of a 4-byte graph tensor.
double activationElementBytes(ComputePrecision precision);

/// Bytes per parameter of the model state, split into what ZeRO-1 shards (the optimizer
/// state: f32 moments, and under mixed precision the f32 master weights) and what it
/// does not (the weights and gradients the step computes with).
struct ModelStateBytes {
  double weights = 0, gradients = 0, optimizer = 0;
};
/// `optimizer` is "sgd" (a momentum buffer when `momentum`) or "adamw" (two moments).
ModelStateBytes modelStateBytesPerParameter(ComputePrecision precision, bool training,
                                            llvm::StringRef optimizer, bool momentum);

/// Microbatches whose activations pipeline rank `rank` (of `ranks`) holds at once under
/// a schedule of `microbatches` microbatches and `virtualStages` chunks per rank: all of
/// them under GPipe, ranks - rank under 1F1B, and under interleaved 1F1B Megatron-LM's
/// warm-up of 2 (p - r - 1) + (v - 1) p + 1 chunk passes, counted in whole-rank
/// microbatches (over v); never more than there are.
double microbatchesInFlight(PipelineScheduleKind kind, int64_t rank, int64_t ranks,
                            int64_t microbatches, int64_t virtualStages);

/// Whether `op` computes attention scores: reads no weight, and its result has rank >= 3
/// ending in two equal dims (batch x heads x seq x seq), as the score matmul, its scaling,
/// masking and softmax do. Selective recomputation recomputes these (Korthikanti et al.
/// 2022).
bool isAttentionScoreOp(Operation *op);

/// The bytes one rank needs, by term.
struct RankMemory {
  double weights = 0, gradients = 0, optimizerState = 0, activations = 0, workspace = 0;

  double total() const { return weights + gradients + optimizerState + activations + workspace; }
  /// The largest term's name ("activations", ...): what overflows when the total does not
  /// fit.
  std::string largestTerm() const;
};

} // namespace mlir::parc

#endif // PARC_ANALYSIS_MEMORYMODEL_H
