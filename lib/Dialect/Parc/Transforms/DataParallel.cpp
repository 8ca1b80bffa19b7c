//===- DataParallel.cpp - one part of the global batch per dp rank --------===//
//
// Data parallelism in two passes around the rest of the pipeline; see their descriptions.
// parc-partition-data-parallel rewrites @main to one dp rank's share of the batch (the
// batch split of BatchSplit.h over the "dp" axis); later passes (the loss, autodiff, the
// optimizer, which averages gradients over the dp group) see one rank's program;
// parc-finish-data-parallel gives @main back the global batch's signature: each rank takes
// its rows of every batch input and puts the outputs back together.
//
//===----------------------------------------------------------------------===//

#include "BatchSplit.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Dialect/Parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {
#define GEN_PASS_DEF_PARTITIONDATAPARALLELPASS
#define GEN_PASS_DEF_FINISHDATAPARALLELPASS
#include "parc/Dialect/Parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

/// @main with a body and the number of dp ranks, when there are more than one.
std::optional<std::pair<func::FuncOp, int64_t>> dataParallelMain(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  std::optional<int64_t> ranks = getMeshAxisSize(module, "dp");
  if (!main || main.isExternal() || !ranks || *ranks <= 1)
    return std::nullopt;
  return std::make_pair(main, *ranks);
}

struct PartitionDataParallelPass
    : mlir::parc::impl::PartitionDataParallelPassBase<PartitionDataParallelPass> {
  void runOnOperation() override {
    if (auto target = dataParallelMain(getOperation()))
      if (failed(splitBatch(target->first, target->second, "dp", "dp")))
        signalPassFailure();
  }
};

struct FinishDataParallelPass
    : mlir::parc::impl::FinishDataParallelPassBase<FinishDataParallelPass> {
  void runOnOperation() override {
    auto target = dataParallelMain(getOperation());
    if (!target)
      return;
    auto [main, dp] = *target;
    MLIRContext *context = main.getContext();
    Block &entry = main.front();
    OpBuilder builder = OpBuilder::atBlockBegin(&entry);
    StringAttr group = builder.getStringAttr("dp");
    // Inputs: the global batch; each rank slices its rows.
    for (BlockArgument argument : entry.getArguments()) {
      auto layout = main.getArgAttrOfType<ShardingAttr>(argument.getArgNumber(),
                                                        kMicrobatchLayoutAttr);
      if (!layout || !layout.isSplit())
        continue;
      auto local = cast<RankedTensorType>(argument.getType());
      SmallVector<int64_t> shape(local.getShape());
      shape[layout.getDim()] *= dp;
      argument.setType(RankedTensorType::get(shape, local.getElementType()));
      auto rows = ShardSliceOp::create(builder, argument.getLoc(), local, argument,
                                       builder.getI64IntegerAttr(layout.getDim()),
                                       builder.getI64IntegerAttr(layout.getGroups()), group);
      argument.replaceAllUsesExcept(rows.getResult(), rows);
    }
    // Outputs: split ones are gathered, partial sums summed.
    Operation *terminator = entry.getTerminator();
    builder.setInsertionPoint(terminator);
    for (OpOperand &operand : terminator->getOpOperands()) {
      auto layout = main.getResultAttrOfType<ShardingAttr>(operand.getOperandNumber(),
                                                           kMicrobatchLayoutAttr);
      if (!layout || layout.isReplicated())
        continue;
      Value value = operand.get();
      auto local = cast<RankedTensorType>(value.getType());
      if (layout.isPartial()) {
        operand.set(AllReduceOp::create(builder, value.getLoc(), local, value, group));
        continue;
      }
      SmallVector<int64_t> shape(local.getShape());
      shape[layout.getDim()] *= dp;
      operand.set(AllGatherOp::create(builder, value.getLoc(),
                                      RankedTensorType::get(shape, local.getElementType()),
                                      value, builder.getI64IntegerAttr(layout.getDim()),
                                      group));
    }
    main.setFunctionType(FunctionType::get(context, entry.getArgumentTypes(),
                                           terminator->getOperandTypes()));
  }
};

} // namespace
