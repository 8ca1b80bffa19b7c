//===- CostFormulas.cpp - closed-form times and sizes of parallel training ----===//

#include "parc/Analysis/CostFormulas.h"

#include <algorithm>
#include <cassert>

using namespace mlir::parc;

double mlir::parc::ringAllReduceSeconds(double bytes, int64_t ranks, const LinkProfile &link) {
  if (ranks <= 1)
    return 0;
  double steps = 2.0 * (ranks - 1);
  return steps * link.latency + steps / ranks * bytes / link.effectiveBandwidth();
}

double mlir::parc::ringAllGatherSeconds(double bytes, int64_t ranks, const LinkProfile &link) {
  if (ranks <= 1)
    return 0;
  double steps = ranks - 1.0;
  return steps * link.latency + steps / ranks * bytes / link.effectiveBandwidth();
}

double mlir::parc::sendSeconds(double bytes, const LinkProfile &link) {
  return link.latency + bytes / link.effectiveBandwidth();
}

double mlir::parc::pipelineBubbleFraction(int64_t stages, int64_t microbatches,
                                          int64_t virtualStages) {
  assert(stages >= 1 && microbatches >= 1 && virtualStages >= 1);
  double idle = stages - 1.0;
  return idle / (static_cast<double>(virtualStages) * microbatches + idle);
}

double mlir::parc::mixedPrecisionAdamStateBytes(double parameters, int zeroStage,
                                                int64_t dataParallel) {
  double d = static_cast<double>(dataParallel), psi = parameters;
  switch (zeroStage) {
  case 0:
    return 16 * psi;
  case 1: // Optimizer state (12 bytes) sharded.
    return 4 * psi + 12 * psi / d;
  case 2: // And the gradients (2 bytes).
    return 2 * psi + 14 * psi / d;
  default: // And the weights.
    return 16 * psi / d;
  }
}

double mlir::parc::transformerLayerActivationBytes(int64_t s, int64_t b, int64_t h, int64_t a,
                                                   int64_t t, bool sequenceParallel,
                                                   ActivationRecompute recompute) {
  double sbh = static_cast<double>(s) * b * h;
  double attention = 5.0 * a * s / (static_cast<double>(h) * t);
  switch (recompute) {
  case ActivationRecompute::Full:
    return 2 * sbh; // The layer's input only.
  case ActivationRecompute::Selective:
    return sequenceParallel ? 34 * sbh / t : sbh * (10 + 24.0 / t);
  case ActivationRecompute::None: // At t = 1 both are Table 2's s b h (34 + 5 a s / h).
    return sequenceParallel ? sbh * (34.0 / t + attention) : sbh * (10 + 24.0 / t + attention);
  }
  return 0;
}

double mlir::parc::gptParameters(int64_t layers, int64_t h, int64_t vocab, int64_t s) {
  double l = layers, hd = h;
  return 12 * l * hd * hd * (1 + 13 / (12 * hd) + (vocab + s) / (12 * l * hd));
}

double mlir::parc::gptIterationFlops(int64_t batch, int64_t s, int64_t layers, int64_t h,
                                     int64_t vocab, bool fullRecompute) {
  double base = static_cast<double>(batch) * s * layers * h * static_cast<double>(h);
  double attention = s / (6.0 * h);
  if (fullRecompute)
    return 96 * base * (1 + attention + vocab / (16.0 * layers * h));
  return 72 * base * (1 + attention + vocab / (12.0 * layers * h));
}

double mlir::parc::kernelSeconds(double flops, double bytes, llvm::StringRef elementType,
                                 const DeviceProfile &device) {
  double compute = 0;
  if (flops > 0) {
    auto peak = device.peakFlops.find(elementType.str());
    assert(peak != device.peakFlops.end() && "no peak for the element type");
    compute = flops / (peak->second * device.gemmEfficiencyAt(flops));
  }
  return device.kernelLatency + std::max(compute, memorySeconds(bytes, device));
}

double mlir::parc::memorySeconds(double bytes, const DeviceProfile &device) {
  return bytes / (device.memoryBandwidth * device.memoryEfficiency);
}
