//===- CostFormulas.h - closed-form times and sizes of parallel training -*- C++ -*-===//
//
// The formulas the cost model prices a plan with, each from its published source
// (../shared/FORMULAS.md restates them): alpha-beta times of ring collectives and
// point-to-point transfers on a link, the pipeline bubble, model-state memory under ZeRO,
// activation memory per transformer layer (Megatron 2022, Table 2), GPT parameter and
// FLOP counts (PTD-P 2021), and a roofline time of one kernel on a device. They take plain
// numbers, not IR, so tests check them against the published figures directly.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_COSTFORMULAS_H
#define PARC_ANALYSIS_COSTFORMULAS_H

#include "parc/Analysis/MachineProfile.h"

#include <cstdint>

namespace mlir::parc {

//===----------------------------------------------------------------------===//
// Communication (alpha-beta, ring algorithms)
//===----------------------------------------------------------------------===//

/// A ring all-reduce of `bytes` over `ranks`: each rank sends and receives 2 (r-1)/r of
/// the buffer in 2 (r-1) steps.
double ringAllReduceSeconds(double bytes, int64_t ranks, const LinkProfile &link);
/// A ring all-gather (or reduce-scatter) whose gathered buffer is `bytes`: (r-1)/r of it
/// in r-1 steps.
double ringAllGatherSeconds(double bytes, int64_t ranks, const LinkProfile &link);
/// One send of `bytes` to a peer.
double sendSeconds(double bytes, const LinkProfile &link);

//===----------------------------------------------------------------------===//
// Pipelines
//===----------------------------------------------------------------------===//

/// The idle fraction of a pipeline step of `stages` stages, `microbatches` microbatches
/// and `virtualStages` model chunks per rank (1 for GPipe and 1F1B):
/// (p-1) / (v m + p-1).
double pipelineBubbleFraction(int64_t stages, int64_t microbatches, int64_t virtualStages);

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

/// Bytes of weights, gradients and Adam state per replica under mixed precision (16 per
/// parameter: f16 weight and gradient, f32 master weight, momentum, variance), with ZeRO
/// stage `zeroStage` (0 to 3) sharding them over `dataParallel` replicas.
double mixedPrecisionAdamStateBytes(double parameters, int zeroStage, int64_t dataParallel);

enum class ActivationRecompute { None, Selective, Full };

/// Bytes of 16-bit activations one transformer layer keeps for the backward pass
/// (Megatron 2022, Table 2): sequence `s`, microbatch `b`, hidden `h`, heads `a`, tensor
/// parallel `t`, with or without sequence parallelism and recomputation.
double transformerLayerActivationBytes(int64_t s, int64_t b, int64_t h, int64_t a, int64_t t,
                                       bool sequenceParallel, ActivationRecompute recompute);

//===----------------------------------------------------------------------===//
// GPT counts (PTD-P 2021, section 5.1)
//===----------------------------------------------------------------------===//

/// Parameters of a GPT with `layers` layers, hidden size `h`, vocabulary `vocab` and
/// sequence `s` (learned positions): 12 l h^2 (1 + 13/(12h) + (V+s)/(12 l h)).
double gptParameters(int64_t layers, int64_t h, int64_t vocab, int64_t s);
/// FLOPs of one training iteration over `batch` sequences: 72 B s l h^2 (1 + s/(6h) +
/// V/(12 l h)), or with full recomputation (one more forward) 96 B s l h^2 (1 + s/(6h) +
/// V/(16 l h)).
double gptIterationFlops(int64_t batch, int64_t s, int64_t layers, int64_t h, int64_t vocab,
                         bool fullRecompute);

//===----------------------------------------------------------------------===//
// Devices
//===----------------------------------------------------------------------===//

/// A kernel's time on `device` by the roofline: its latency plus the longer of its compute
/// (`flops` at the GEMM efficiency for that size of the peak for `elementType`, one of the
/// profile's peak_flops keys) and its memory traffic (`bytes` at the achieved bandwidth).
double kernelSeconds(double flops, double bytes, llvm::StringRef elementType,
                     const DeviceProfile &device);

/// Moving `bytes` through the device's memory at its achieved bandwidth, as a copy inside
/// another operation does (no kernel latency of its own).
double memorySeconds(double bytes, const DeviceProfile &device);

} // namespace mlir::parc

#endif // PARC_ANALYSIS_COSTFORMULAS_H
