//===- CompilePipeline.h - the whole compile flow as a pass pipeline -*- C++ -*-===//
//
// parc's compile flow, from an imported module to the per-rank programs the artifact
// writer stores: data parallelism, the microbatch split, the loss, tensor parallelism, the
// backward pass and optimizer, the pipeline stages, fusion and buffer planning, each added
// when the options ask for it and in the one order that works (docs/architecture.md says
// why). parc-compile builds it from its flags; parc-opt runs it as
// `--parc-compile-pipeline="tp=2 pp=2 microbatches=2"`, with the flags' names as options.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_PIPELINE_COMPILEPIPELINE_H
#define PARC_PIPELINE_COMPILEPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <string>

namespace mlir::parc {

/// How far the flow runs (parc-compile's --emit stages).
enum class CompileStage {
  /// The imported module, canonicalized (shape arithmetic folded): --emit=parc.
  Imported,
  /// After data, tensor and pipeline partitioning and training: --emit=partitioned.
  Partitioned,
  /// After fusion (parc.fused regions, one kernel each): --emit=fused and --emit=cuda.
  Fused,
  /// After buffer planning (each activation's arena offset): --emit=planned, and what the
  /// artifact writer needs.
  Planned,
};

/// Everything the flow depends on, typed, with parc-compile's defaults. Sizes are bytes.
struct CompileOptions {
  std::string target = "cpu";
  int64_t dp = 1, tp = 1, pp = 1, microbatches = 1, virtualStages = 1;
  std::string schedule = "1f1b";
  int64_t memoryLimit = 0;
  bool train = false;
  std::string loss = "cross_entropy", optimizer = "sgd";
  double learningRate = 1e-3, momentum = 0, weightDecay = 0;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  int64_t zero = 0;
  int64_t bucketBytes = 25 << 20;
  std::string recompute = "none";
  int64_t memoryBudget = 0;
  /// Whether --loss, --optimizer or --lr were given (they need --train).
  bool trainingOptionsGiven = false;

  /// Whether the pipeline builder cuts @main: pipeline stages, microbatches (gradient
  /// accumulation) or recomputation, which it builds even on one stage.
  bool pipelined() const {
    return pp > 1 || microbatches > 1 || virtualStages > 1 || recompute != "none";
  }
};

/// Checks the options once for the whole flow: the first problem as one line naming the
/// flag (e.g. `--zero=1 needs --train and --dp of 2 or more`), or an empty string.
/// Problems that depend on the model (a batch the microbatches do not divide) are found by
/// the passes.
std::string validateCompileOptions(const CompileOptions &options);

/// Adds to `pm` (on a module) the flow for `options` up to `stage`. The options must be
/// valid (validateCompileOptions).
void buildCompilePipeline(OpPassManager &pm, const CompileOptions &options,
                          CompileStage stage = CompileStage::Planned);

/// The training step the layout search prices (SearchRequest::trainingStep): a copy of
/// `module` (imported, on one device, its @main the forward graph at the global batch)
/// with `options`' loss and parc-differentiate's backward pass, canonicalized as the
/// compile flow does. Each op of @main's body copied from the forward graph carries
/// kForwardIndexAttr (its position in `module`'s @main), each backward op kAdjointOfAttr.
/// Null when a pass fails (diagnosed).
OwningOpRef<ModuleOp> buildSearchTrainingStep(ModuleOp module, const CompileOptions &options);

/// Registers `parc-compile-pipeline` for parc-opt: the flow up to `emit` (parc,
/// partitioned, fused or planned; default partitioned, what `parc-compile
/// --emit=partitioned` prints), with parc-compile's flags as options.
void registerCompilePipeline();

} // namespace mlir::parc

#endif // PARC_PIPELINE_COMPILEPIPELINE_H
