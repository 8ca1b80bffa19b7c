//===- PipelineSchedule.cpp - microbatch schedules and their simulation ---===//

#include "parc/Analysis/PipelineSchedule.h"

#include <algorithm>
#include <cassert>
#include <vector>

using namespace mlir::parc;

namespace {

/// The k-th forward (or backward) of a rank under interleaving: microbatches go in groups
/// of `ranks` through chunk 0, then the same group through chunk 1, ...; backwards visit the
/// chunks in reverse.
PipelineStep interleavedStep(int64_t k, int64_t ranks, int64_t chunks, bool forward) {
  int64_t group = k / (ranks * chunks);
  int64_t chunk = (k / ranks) % chunks;
  if (!forward)
    chunk = chunks - 1 - chunk;
  return {forward, group * ranks + k % ranks, chunk};
}

} // namespace

std::vector<std::vector<PipelineStep>>
mlir::parc::buildPipelineSchedule(PipelineScheduleKind kind, int64_t ranks,
                                  int64_t microbatches, int64_t virtualStages,
                                  bool training) {
  std::vector<std::vector<PipelineStep>> schedule(ranks);
  int64_t chunks = kind == PipelineScheduleKind::Interleaved ? virtualStages : 1;
  int64_t total = microbatches * chunks;
  for (int64_t rank = 0; rank < ranks; ++rank) {
    std::vector<PipelineStep> &steps = schedule[rank];
    auto forward = [&](int64_t k) { return interleavedStep(k, ranks, chunks, true); };
    auto backward = [&](int64_t k) { return interleavedStep(k, ranks, chunks, false); };
    if (kind == PipelineScheduleKind::GPipe || !training) {
      for (int64_t k = 0; k < total; ++k)
        steps.push_back(forward(k));
      if (training)
        for (int64_t k = 0; k < total; ++k)
          steps.push_back(backward(k));
      continue;
    }
    // 1F1B: warm up with the forwards the later stages need, then alternate, then drain.
    int64_t warmup = kind == PipelineScheduleKind::Interleaved
                         ? (ranks - rank - 1) * 2 + (chunks - 1) * ranks
                         : ranks - rank - 1;
    warmup = std::min(warmup, total);
    int64_t f = 0, b = 0;
    for (; f < warmup; ++f)
      steps.push_back(forward(f));
    while (f < total) {
      steps.push_back(forward(f++));
      steps.push_back(backward(b++));
    }
    while (b < total)
      steps.push_back(backward(b++));
  }
  return schedule;
}

PipelineSimulation
mlir::parc::simulatePipeline(const std::vector<std::vector<PipelineStep>> &schedule,
                             const std::vector<double> &forwardSeconds,
                             const std::vector<double> &backwardSeconds,
                             double transferSeconds) {
  int64_t ranks = schedule.size();
  int64_t stages = forwardSeconds.size();
  // When each (forward?, microbatch, stage) finishes, once known (negative: not yet).
  int64_t microbatches = 0;
  for (const std::vector<PipelineStep> &steps : schedule)
    for (const PipelineStep &step : steps)
      microbatches = std::max(microbatches, step.microbatch + 1);
  std::vector<double> done(2 * microbatches * stages, -1);
  auto finish = [&](bool forward, int64_t microbatch, int64_t stage) -> double & {
    return done[(forward * microbatches + microbatch) * stages + stage];
  };
  std::vector<size_t> next(ranks, 0);
  std::vector<double> clock(ranks, 0), busy(ranks, 0);
  bool progress = true;
  while (progress) {
    progress = false;
    for (int64_t rank = 0; rank < ranks; ++rank) {
      while (next[rank] < schedule[rank].size()) {
        const PipelineStep &step = schedule[rank][next[rank]];
        int64_t stage = step.chunk * ranks + rank;
        // Inputs: the previous stage's forward, or the next stage's backward (the last
        // stage's backward follows its own forward).
        double ready = 0;
        bool available = true;
        auto need = [&](bool forward, int64_t s, bool remote) {
          double finished = finish(forward, step.microbatch, s);
          if (finished < 0) {
            available = false;
            return;
          }
          ready = std::max(ready, finished + (remote ? transferSeconds : 0));
        };
        if (step.forward) {
          if (stage > 0)
            need(true, stage - 1, true);
        } else if (stage + 1 < stages) {
          need(false, stage + 1, true);
        } else {
          need(true, stage, false);
        }
        if (!available)
          break;
        double seconds =
            step.forward ? forwardSeconds[stage] : backwardSeconds[stage];
        double start = std::max(clock[rank], ready);
        clock[rank] = start + seconds;
        busy[rank] += seconds;
        finish(step.forward, step.microbatch, stage) = clock[rank];
        ++next[rank];
        progress = true;
      }
    }
  }
  PipelineSimulation result;
  for (int64_t rank = 0; rank < ranks; ++rank) {
    assert(next[rank] == schedule[rank].size() && "the schedule deadlocks");
    result.stepSeconds = std::max(result.stepSeconds, clock[rank]);
  }
  double idle = 0;
  for (int64_t rank = 0; rank < ranks; ++rank)
    idle += result.stepSeconds - busy[rank];
  result.bubbleFraction = idle / (ranks * result.stepSeconds);
  return result;
}
