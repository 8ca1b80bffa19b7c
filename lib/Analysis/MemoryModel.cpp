//===- MemoryModel.cpp - the bytes one rank holds during a training step ---===//

#include "parc/Analysis/MemoryModel.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "llvm/ADT/StringSwitch.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::parc;

std::optional<ComputePrecision> mlir::parc::parseComputePrecision(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<ComputePrecision>>(name)
      .Cases("", "f32", ComputePrecision::F32)
      .Case("f16", ComputePrecision::F16)
      .Case("bf16", ComputePrecision::BF16)
      .Default(std::nullopt);
}

llvm::StringRef mlir::parc::computePrecisionName(ComputePrecision precision) {
  switch (precision) {
  case ComputePrecision::F32:
    return "f32";
  case ComputePrecision::F16:
    return "f16";
  case ComputePrecision::BF16:
    return "bf16";
  }
  return "f32";
}

double mlir::parc::activationElementBytes(ComputePrecision precision) {
  return precision == ComputePrecision::F32 ? 4 : 2;
}

ModelStateBytes mlir::parc::modelStateBytesPerParameter(ComputePrecision precision,
                                                        bool training,
                                                        llvm::StringRef optimizer,
                                                        bool momentum) {
  ModelStateBytes state;
  state.weights = activationElementBytes(precision);
  if (!training)
    return state;
  state.gradients = activationElementBytes(precision);
  double moments = optimizer == "adamw" ? 2 : momentum ? 1 : 0;
  state.optimizer = 4 * moments;
  if (precision != ComputePrecision::F32)
    state.optimizer += 4; // The f32 master weights.
  return state;
}

double mlir::parc::microbatchesInFlight(PipelineScheduleKind kind, int64_t rank,
                                        int64_t ranks, int64_t microbatches,
                                        int64_t virtualStages) {
  double m = static_cast<double>(microbatches);
  if (ranks == 1)
    return 1;
  if (kind == PipelineScheduleKind::GPipe)
    return m;
  if (kind == PipelineScheduleKind::Interleaved && virtualStages > 1) {
    // Megatron-LM's warm-up: 2 (p - r - 1) + (v - 1) p chunk forwards, then one more
    // before the first backward; each keeps one chunk's (1/v of the rank's) activations.
    double chunks = 2.0 * (ranks - rank - 1) + (virtualStages - 1.0) * ranks + 1;
    return std::min(chunks / virtualStages, m);
  }
  return std::min(static_cast<double>(ranks - rank), m);
}

bool mlir::parc::isAttentionScoreOp(Operation *op) {
  if (op->getNumResults() != 1 ||
      llvm::any_of(op->getOperands(), [](Value v) { return v.getDefiningOp<LoadWeightOp>(); }))
    return false;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || type.getRank() < 3)
    return false;
  ArrayRef<int64_t> shape = type.getShape();
  return shape.back() > 1 && shape.back() == shape[shape.size() - 2];
}

std::string RankMemory::largestTerm() const {
  std::pair<double, const char *> terms[] = {{weights, "weights"},
                                             {gradients, "gradients"},
                                             {optimizerState, "optimizer state"},
                                             {activations, "activations"},
                                             {workspace, "working memory"}};
  return std::max_element(std::begin(terms), std::end(terms))->second;
}
