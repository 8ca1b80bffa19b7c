//===- PipelineSchedule.h - microbatch schedules and their simulation -*- C++ -*-===//
//
// The order in which each pipeline rank runs the forward (F) and backward (B) passes of
// its microbatches under GPipe, 1F1B (PipeDream-Flush) and interleaved 1F1B with v virtual
// stages per rank, fixed at compile time; and an event simulation of a schedule from
// per-stage pass times, which predicts the step time and the bubble fraction.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_PIPELINESCHEDULE_H
#define PARC_ANALYSIS_PIPELINESCHEDULE_H

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::parc {

enum class PipelineScheduleKind { GPipe, OneFOneB, Interleaved };

/// One pass a rank runs: the forward or backward of `microbatch` through model chunk
/// `chunk` (always 0 without interleaving). The stage it computes is chunk * ranks + rank.
struct PipelineStep {
  bool forward;
  int64_t microbatch;
  int64_t chunk;
};

/// The steps of every rank in the order it runs them. `virtualStages` is v (1 unless
/// interleaved); `training` adds backward passes.
std::vector<std::vector<PipelineStep>>
buildPipelineSchedule(PipelineScheduleKind kind, int64_t ranks,
                      int64_t microbatches, int64_t virtualStages, bool training);

/// What a simulation predicts.
struct PipelineSimulation {
  double stepSeconds = 0;
  /// Idle time over ranks x step time: the bubble as a fraction of the whole step.
  double bubbleFraction = 0;
};

/// Simulates `schedule`: a forward of one microbatch through stage s takes forwardSeconds[s],
/// a backward backwardSeconds[s] (stage = chunk * ranks + rank), and a transfer between
/// ranks `transferSeconds`. Each rank runs its steps in order as soon as their inputs exist.
PipelineSimulation
simulatePipeline(const std::vector<std::vector<PipelineStep>> &schedule,
                 const std::vector<double> &forwardSeconds,
                 const std::vector<double> &backwardSeconds, double transferSeconds);

} // namespace mlir::parc

#endif // PARC_ANALYSIS_PIPELINESCHEDULE_H
