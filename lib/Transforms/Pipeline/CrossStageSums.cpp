//===- CrossStageSums.cpp - tied gradients summed per stage ---------------===//
//
// A weight's gradient whose parts come from different stages (a tied embedding) is summed
// over the microbatches on each stage, and the partial sums are exchanged once per step
// (PipelineBuilder::splitCrossStageSums).
//
//===----------------------------------------------------------------------===//

#include "Pipeline/PipelineBuilder.h"

using namespace mlir;
using namespace mlir::parc;
using namespace mlir::parc::pipeline;

bool PipelineBuilder::splitCrossStageSums() {
  // The stage computing `value` per microbatch, or -1.
  auto stageOf = [&](Value value) {
    int64_t chunk = producerChunk(value);
    return chunk >= 0 ? rankOf(chunk) : -1;
  };
  SmallVector<AllReduceOp> worklist;
  for (Operation &op : main.front())
    if (isMicrobatchSum(&op))
      worklist.push_back(cast<AllReduceOp>(op));
  bool changed = false;
  while (!worklist.empty()) {
    AllReduceOp sumOp = worklist.pop_back_val();
    auto add = sumOp.getOperand().getDefiningOp<AddOp>();
    if (!add || !add->hasOneUse() || add.getLhs().getType() != add.getType() ||
        add.getRhs().getType() != add.getType())
      continue;
    int64_t lhsStage = stageOf(add.getLhs()), rhsStage = stageOf(add.getRhs());
    if (lhsStage < 0 || rhsStage < 0 || lhsStage == rhsStage)
      continue;
    OpBuilder builder(sumOp);
    auto partial = [&](Value part) {
      return AllReduceOp::create(builder, sumOp.getLoc(), part.getType(), part,
                                 sumOp.getGroupAttr());
    };
    AllReduceOp lhsSum = partial(add.getLhs()), rhsSum = partial(add.getRhs());
    Value total = AddOp::create(builder, add.getLoc(), add.getType(), lhsSum, rhsSum);
    sumOp.getResult().replaceAllUsesWith(total);
    sumOp.erase();
    add.erase();
    // A part may itself add up parts of several stages (a weight used three times).
    worklist.push_back(lhsSum);
    worklist.push_back(rhsSum);
    changed = true;
  }
  return changed;
}
