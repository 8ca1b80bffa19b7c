//===- AssignPipelineStages.cpp - record the stage partition --------------===//

#include "parc/Analysis/StagePartitioner.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {
#define GEN_PASS_DEF_ASSIGNPIPELINESTAGESPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct AssignPipelineStagesPass
    : mlir::parc::impl::AssignPipelineStagesPassBase<AssignPipelineStagesPass> {
  using AssignPipelineStagesPassBase::AssignPipelineStagesPassBase;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    FailureOr<StagePartition> partition = partitionStages(function, stages, /*memoryLimitBytes=*/0,
                                                         /*include=*/nullptr, weighTransfers);
    if (failed(partition))
      return signalPassFailure();
    Builder b(function.getContext());
    for (auto [op, stage] : llvm::zip(function.front(), partition->stageOfOp))
      op.setAttr(kStageAttr, b.getI64IntegerAttr(stage));
    function->setAttr(kStageSecondsAttr, b.getF64ArrayAttr(partition->stageSeconds));
    function->setAttr(kStageIncomingBytesAttr,
                      b.getF64ArrayAttr(partition->incomingBytes));
    function->setAttr(kStageImbalanceAttr, b.getF64FloatAttr(partition->imbalance));
  }
};

} // namespace
