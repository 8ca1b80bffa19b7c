//===- ParallelSearch.h - choosing the whole layout for N devices -*- C++ -*-===//
//
// The layout search behind `parc-compile --devices=N`: it enumerates every way to run the
// model on N devices (dp x pp x tp = N with tp dividing a node; the microbatch count; the
// schedule and its virtual stages; recomputation none/selective/full; ZeRO 0/1), prices
// each with the planners parc compiles with (the tensor-parallel planner's weight layouts
// and collectives, the stage partitioner's cuts, the pipeline simulation) on one machine
// profile, checks it against the device memory term by term, and ranks what fits by
// predicted step time.
//
// The forward graph is analysed once per tensor-parallel degree and once per stage count;
// a candidate is then arithmetic over per-op counts scaled to its microbatch. The
// backward pass is priced op by op from the training step parc builds (each backward op
// where its forward op runs, on its share), or at twice the forward's work when there is
// none; its collectives mirror the forward's (docs/planner.md, "The layout search").
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_PARALLELSEARCH_H
#define PARC_ANALYSIS_PARALLELSEARCH_H

#include "parc/Analysis/MachineProfile.h"
#include "parc/Analysis/MemoryModel.h"
#include "parc/Analysis/PipelineSchedule.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::parc {

/// What the search is asked: the device count, the degrees the user pinned (unset:
/// searched), and the run's kind.
struct SearchRequest {
  int64_t devices = 1;
  std::optional<int64_t> tp, pp, dp, microbatches, virtualStages;
  /// "gpipe", "1f1b" (interleaved when virtualStages > 1); unset: both.
  std::optional<std::string> schedule;
  /// "none", "selective", "full"; unset: all three (training).
  std::optional<std::string> recompute;
  std::optional<int64_t> zero;
  bool train = false;
  std::string optimizer = "sgd";
  bool momentum = false;
  ComputePrecision precision = ComputePrecision::F32;
  /// For training: the step's loss and backward pass as parc builds them on one device
  /// (buildSearchTrainingStep), priced op by op; unset, a backward pass is priced at twice
  /// its forward's work.
  func::FuncOp trainingStep;
  /// How many ranked candidates the result keeps (the chosen one first).
  size_t keep = 8;
};

/// One priced layout.
struct LayoutCandidate {
  int64_t tp = 1, pp = 1, dp = 1, microbatches = 1, virtualStages = 1;
  std::string schedule = "1f1b";
  std::string recompute = "none";
  int64_t zero = 0;

  double stepSeconds = 0;
  /// Per device: the compute and communication of the slowest pipeline rank's passes,
  /// the gradient synchronisation and the optimizer update.
  double computeSeconds = 0, communicationSeconds = 0;
  double bubbleFraction = 0;
  /// Model FLOPs of one step (forward, backward and what recomputation repeats) per device
  /// per second.
  double modelFlopsPerDevice = 0;
  RankMemory peakMemory; // of the rank that needs the most
  /// Empty when the layout fits; otherwise why it was rejected.
  std::string rejected;

  /// `tp=2 pp=2 dp=1 microbatches=4 schedule=1f1b recompute=none zero=0`.
  std::string describe() const;
};

struct SearchResult {
  /// Fitting candidates by predicted step time (fastest first), then the best rejected
  /// layouts (one per tp x pp x dp), at most `keep` of each.
  std::vector<LayoutCandidate> ranked;
  std::vector<LayoutCandidate> rejected;
  int64_t evaluated = 0;
  int64_t globalBatch = 0;
  /// Forward FLOPs of the whole graph at the global batch.
  double forwardFlops = 0;
  double searchSeconds = 0;

  const LayoutCandidate &best() const { return ranked.front(); }
};

/// Searches layouts of `function` (the imported forward graph, whose inputs' dim 0 is the
/// global batch) on `machine`. Fails with one line naming the cause: a device count the
/// pinned degrees do not factor, or a model that fits nowhere (with the smallest
/// overflow: the layout and the term).
llvm::Expected<SearchResult> searchParallelLayouts(func::FuncOp function,
                                                   const MachineProfile &machine,
                                                   const SearchRequest &request);

} // namespace mlir::parc

#endif // PARC_ANALYSIS_PARALLELSEARCH_H
