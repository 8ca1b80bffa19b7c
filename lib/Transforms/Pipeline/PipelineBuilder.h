//===- PipelineBuilder.h - @main cut into per-stage programs ----*- C++ -*-===//
//
// The state of parc-build-pipeline (BuildPipeline.cpp): which ops of @main run where (free,
// forward, backward or once per step, and in which chunk), the values that cross stages,
// and the construction of each stage's scheduled function. Its parts live by job:
// PipelineBuilder.cpp (where each op runs), CrossStageSums.cpp (gradient sums whose parts
// come from different stages), PipelineRecompute.cpp (what each backward step recomputes)
// and BuildStage.cpp (one stage's function with its transfers). Internal to
// lib/Transforms/Pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TRANSFORMS_PIPELINE_PIPELINEBUILDER_H
#define PARC_LIB_TRANSFORMS_PIPELINE_PIPELINEBUILDER_H

#include "Training/Recompute.h"

#include "parc/Analysis/PipelineSchedule.h"
#include "parc/Analysis/StagePartitioner.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

#include <map>
#include <set>
#include <tuple>
#include <vector>

namespace mlir::parc::pipeline {

/// Microbatch `microbatch`'s rows of `whole` along `dim`: a slice of type `local`.
SliceOp sliceMicrobatch(OpBuilder &builder, Location loc, Value whole,
                        RankedTensorType local, int64_t dim, int64_t microbatch);

/// Whether `op` sums over the microbatches (an all_reduce over the "microbatch" axis).
bool isMicrobatchSum(Operation *op);

/// `piece` (microbatch `microbatch`'s rows along `dim`) in a tensor of type `whole` that is
/// zero in every other microbatch's rows.
Operation *padMicrobatch(OpBuilder &builder, Location loc, Value piece, RankedTensorType whole,
                         int64_t dim, int64_t microbatch, int64_t microbatches);

/// Where an op of @main runs in the pipeline.
enum class OpKind {
  /// Weights, literals and what is computed from them alone (a mask, a microbatch's rows
  /// of it): every stage computes these itself instead of receiving them.
  Free,
  /// Part of a chunk's forward pass, run once per microbatch.
  Forward,
  /// Part of a chunk's backward pass (parc-differentiate links it to its forward op).
  Backward,
  /// Run once per step, after every microbatch: the sums over the microbatches
  /// (`all_reduce` over the microbatch axis) and what follows from them (the optimizer).
  PerStep,
  Return,
};

/// A forward or backward pass through one chunk: what a pipeline step runs.
struct Piece {
  int64_t chunk;
  bool forward;
  bool operator<(const Piece &other) const {
    return std::tie(chunk, forward) < std::tie(other.chunk, other.forward);
  }
};

/// Builds the stage functions from @main and its partition into chunks.
class PipelineBuilder {
public:
  PipelineBuilder(func::FuncOp main, int64_t stages, int64_t microbatches)
      : main(main), stages(stages), microbatches(microbatches),
        context(main.getContext()) {}

  /// Sorts @main's ops into free, forward, backward and per-step ones; fails on a program
  /// the pipeline cannot run. `isPartitioned` then says which ops the partition cuts.
  LogicalResult classify();
  /// Free ops are not cut: each runs on the stages that read it, so the partitioner
  /// charges its work to its first forward user (an optimizer's `momentum * beta`, read
  /// by no forward op, is not charged at all).
  bool isPartitioned(Operation *op) const {
    OpKind k = kindOf.lookup(op);
    return k == OpKind::Forward || k == OpKind::Return;
  }
  bool isTraining() const { return training; }
  /// Gives every forward and backward op its chunk, from the partition of the forward pass.
  LogicalResult assignChunks(const StagePartition &partition);
  /// After assignChunks: rewrites @main so that a weight's gradient whose parts come from
  /// different stages (a tied embedding: the first and the last) is summed over the
  /// microbatches on each of those stages and the partial sums are added once per step
  /// (sum_m (a_m + b_m) = sum_m a_m + sum_m b_m), as Megatron all-reduces a tied
  /// embedding's gradient once per step. Otherwise one part would cross stages once per
  /// microbatch and be read only at the end of the other stage's backward passes, which
  /// holds up the sender (a send finishes only once its receiver posted the receive).
  /// Returns whether @main changed (classify and assign the chunks again then).
  bool splitCrossStageSums();
  /// Modelled seconds of each chunk's backward pass (for the schedule simulation).
  std::vector<double> backwardSeconds() const;
  /// Chooses the ops each chunk's backward step recomputes; a stage keeps at most
  /// `budgetBytes` (Auto) over its `inFlight[stage]` microbatches in flight. Fails when
  /// even full recomputation does not fit.
  LogicalResult planRecompute(RecomputePolicy policy, double budgetBytes,
                              ArrayRef<int64_t> inFlight);
  /// What a training step recomputes on each stage, in FLOPs (after buildStage).
  const std::vector<double> &recomputedFlops() const { return recomputedFlopsOf; }
  /// Activation bytes each stage keeps for its backward steps at most: per chunk, what
  /// one microbatch keeps times the microbatches in flight.
  const std::vector<double> &keptActivationBytes() const { return keptBytesOf; }

  /// Builds the function of pipeline stage `stage`, running `steps` in order.
  FailureOr<func::FuncOp> buildStage(int64_t stage, ArrayRef<PipelineStep> steps,
                                     FunctionType wholeType);

private:
  bool isFree(Operation *op) const { return kindOf.lookup(op) == OpKind::Free; }
  bool isPerStep(Operation *op) const { return kindOf.lookup(op) == OpKind::PerStep; }
  int64_t rankOf(int64_t chunk) const { return chunk % stages; }
  /// The chunk computing `value` once per microbatch, or -1 (arguments, free and per-step
  /// values).
  int64_t producerChunk(Value value) const {
    Operation *def = value.getDefiningOp();
    return def && chunkOf.count(def) ? chunkOf.lookup(def) : -1;
  }
  /// The chunk a free forward op belongs to: that of its first forward user.
  int64_t chunkOfFree(Operation *op);
  void numberEdges();
  /// Which stages run each per-step op, and which stage returns each output.
  void placePerStepOps();
  /// The values piece `piece` reads that another stage computes, in order of first use.
  SmallVector<Value> collectIncoming(Piece piece) const;
  const std::vector<Operation *> &opsOf(Piece piece) const {
    return piece.forward ? forwardOps[piece.chunk] : backwardOps[piece.chunk];
  }
  /// The stage that returns output `index` of @main.
  int64_t homeOfOutput(unsigned index);
  /// The stages that run per-step op `op` (none when no stage needs it).
  const std::set<int64_t> &stagesOf(Operation *op) const {
    static const std::set<int64_t> none;
    auto found = perStepStages.find(op);
    return found != perStepStages.end() ? found->second : none;
  }

  func::FuncOp main;
  int64_t stages, microbatches, chunks = 0;
  MLIRContext *context;
  bool training = false;
  llvm::DenseMap<Operation *, OpKind> kindOf;
  llvm::DenseMap<Operation *, int64_t> chunkOf;
  /// The chunk of each free op a backward op refers to (chunkOfFree).
  llvm::DenseMap<Operation *, int64_t> freeChunks;
  std::vector<std::vector<Operation *>> forwardOps, backwardOps;
  std::map<Piece, SmallVector<Value>> incomingValues;
  /// Every (value, receiving stage) pair, numbered: the transfer of microbatch m has tag
  /// number * microbatches + m (per-step transfers use m = 0).
  llvm::MapVector<std::pair<Value, int64_t>, int64_t> edges;
  /// The stages that run each per-step op; the stage whose microbatch sum a per-step value
  /// derives from (where an output of it is returned).
  llvm::DenseMap<Operation *, std::set<int64_t>> perStepStages;
  llvm::DenseMap<Operation *, int64_t> perStepHome;
  /// The forward ops each chunk's backward step computes again, in program order.
  std::vector<std::vector<Operation *>> recomputedOps;
  std::vector<double> recomputedFlopsOf;
  std::vector<double> keptBytesOf;
};

} // namespace mlir::parc::pipeline

#endif // PARC_LIB_TRANSFORMS_PIPELINE_PIPELINEBUILDER_H
