//===- PipelineScheduleTest.cpp - bubbles against the published formulas --===//
//
// The simulated bubble of uniform stages (backward twice the forward, no transfer time)
// must equal the formulas of ../shared/FORMULAS.md: (p-1)/(m+p-1) of the whole step for
// GPipe and 1F1B, (p-1)/(v*m+p-1) for interleaved 1F1B with v chunks per rank.
//
//===----------------------------------------------------------------------===//

#include "parc/Analysis/PipelineSchedule.h"

#include <gtest/gtest.h>

using namespace mlir::parc;

namespace {

PipelineSimulation simulateUniform(PipelineScheduleKind kind, int64_t p, int64_t m,
                                   int64_t v, bool training) {
  int64_t chunks = kind == PipelineScheduleKind::Interleaved ? v : 1;
  // Each rank's share of the model is the same; with v chunks each chunk takes 1/v of it.
  std::vector<double> forward(p * chunks, 1.0 / chunks);
  std::vector<double> backward(p * chunks, training ? 2.0 / chunks : 0.0);
  return simulatePipeline(buildPipelineSchedule(kind, p, m, v, training), forward,
                          backward, 0.0);
}

TEST(PipelineScheduleTest, GPipeAndOneFOneBBubbles) {
  // p = 4, m = 8: 3/11 of the step (27.3%).
  for (PipelineScheduleKind kind :
       {PipelineScheduleKind::GPipe, PipelineScheduleKind::OneFOneB}) {
    PipelineSimulation sim = simulateUniform(kind, 4, 8, 1, /*training=*/true);
    EXPECT_NEAR(sim.bubbleFraction, 3.0 / 11.0, 1e-12);
    EXPECT_NEAR(sim.stepSeconds, (8 + 3) * 3.0, 1e-9); // (m + p - 1)(tf + tb)
  }
  for (int64_t p : {2, 3, 4, 8})
    for (int64_t m : {1, 2, 4, 5, 16}) {
      double expected = double(p - 1) / double(m + p - 1);
      EXPECT_NEAR(simulateUniform(PipelineScheduleKind::OneFOneB, p, m, 1, true)
                      .bubbleFraction,
                  expected, 1e-12)
          << "p=" << p << " m=" << m;
      EXPECT_NEAR(simulateUniform(PipelineScheduleKind::GPipe, p, m, 1, false)
                      .bubbleFraction,
                  expected, 1e-12)
          << "forward only, p=" << p << " m=" << m;
    }
}

TEST(PipelineScheduleTest, InterleavedBubble) {
  // p = 4, m = 8, v = 2: 3/19 of the step (15.8%).
  PipelineSimulation sim =
      simulateUniform(PipelineScheduleKind::Interleaved, 4, 8, 2, true);
  EXPECT_NEAR(sim.bubbleFraction, 3.0 / 19.0, 1e-12);
  for (int64_t v : {2, 3})
    for (int64_t m : {4, 8, 12}) {
      double expected = 3.0 / double(v * m + 3);
      EXPECT_NEAR(simulateUniform(PipelineScheduleKind::Interleaved, 4, m, v, true)
                      .bubbleFraction,
                  expected, 1e-12)
          << "v=" << v << " m=" << m;
    }
}

TEST(PipelineScheduleTest, OneFOneBHoldsAtMostPActivations) {
  // Under 1F1B a rank never has more than p forwards whose backward has not run.
  auto schedule = buildPipelineSchedule(PipelineScheduleKind::OneFOneB, 4, 8, 1, true);
  for (const auto &steps : schedule) {
    int64_t inFlight = 0, most = 0;
    for (const PipelineStep &step : steps) {
      inFlight += step.forward ? 1 : -1;
      most = std::max(most, inFlight);
    }
    EXPECT_LE(most, 4);
    EXPECT_EQ(inFlight, 0);
  }
}

} // namespace
