//===- Recompute.h - which activations a backward step recomputes -*- C++ -*-===//
//
// Activation recomputation chooses, for each pipeline chunk, the forward ops whose results
// its backward step computes again instead of keeping them from the forward step:
//
//  * full: every forward op of the chunk, from the chunk's inputs (what it received,
//    the graph inputs, weights), so a microbatch in flight keeps only its inputs;
//  * selective: the attention-score tensors (Korthikanti et al. 2022): ops reading no
//    weight whose result has rank >= 3 and ends in two equal dims (the batch x heads x
//    seq x seq scores, their scaling, masking and softmax, and the batched matmuls making
//    them) — large (quadratic in the sequence) and cheap to recompute;
//  * auto: greedily, the groups of ops freeing the most kept bytes per recomputed FLOP
//    (an op with the ops behind it whose values nothing keeps yet), until the estimated
//    activation memory of the stage (kept bytes per microbatch x microbatches in flight)
//    fits the budget; full recomputation when nothing less fits.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TRANSFORMS_TRAINING_RECOMPUTE_H
#define PARC_LIB_TRANSFORMS_TRAINING_RECOMPUTE_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/DenseSet.h"

#include <optional>

namespace mlir::parc {

enum class RecomputePolicy { None, Full, Selective, Auto };

/// Parses --recompute's value.
std::optional<RecomputePolicy> parseRecomputePolicy(llvm::StringRef name);


/// A chunk's forward ops and which of their values (and of the values they read) its
/// backward ops use.
struct ChunkActivations {
  /// The chunk's forward ops, in program order.
  llvm::ArrayRef<Operation *> forwardOps;
  /// Whether a backward op reads `value`.
  llvm::function_ref<bool(Value)> usedByBackward;
  /// Whether `value` costs no activation memory (a weight, a literal, a graph input).
  llvm::function_ref<bool(Value)> isFree;
};

/// Bytes of activations one microbatch keeps from its forward step to its backward step
/// when the ops in `recomputed` are recomputed.
double keptBytes(const ChunkActivations &chunk, const llvm::DenseSet<Operation *> &recomputed);

/// What a chunk's backward step recomputes, and what one microbatch then keeps.
struct RecomputeChoice {
  llvm::DenseSet<Operation *> ops;
  double keptBytes = 0;
  /// Whether the choice keeps within the budget (Auto; the others always fit).
  bool fits = true;
};

/// The ops a chunk's backward step recomputes under `policy`. For Auto, `budgetBytes` is
/// what one microbatch may keep (the stage's budget over its microbatches in flight).
RecomputeChoice chooseRecomputed(const ChunkActivations &chunk, RecomputePolicy policy,
                                 double budgetBytes);

} // namespace mlir::parc

#endif // PARC_LIB_TRANSFORMS_TRAINING_RECOMPUTE_H
