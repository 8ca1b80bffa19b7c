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

#include "Partition/BatchSplit.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {
#define GEN_PASS_DEF_PARTITIONDATAPARALLELPASS
#define GEN_PASS_DEF_FINISHDATAPARALLELPASS
#include "parc/Transforms/Passes.h.inc"
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

/// `type` with dim `dim` `dp` times as large: the global batch's.
RankedTensorType globalType(Type type, int64_t dim, int64_t dp) {
  auto local = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(local.getShape());
  shape[dim] *= dp;
  return RankedTensorType::get(shape, local.getElementType());
}

/// Gives `function` (@main, or a pipeline stage of it) the global batch: each rank takes
/// its rows of every batch input, and the outputs are put back together. The layouts are
/// @main's (`main`); `outputIndex[i]` is the output of @main that `function` returns i-th.
void finishFunction(func::FuncOp function, func::FuncOp main, ArrayRef<int64_t> outputIndex,
                    int64_t dp) {
  Block &entry = function.front();
  OpBuilder builder = OpBuilder::atBlockBegin(&entry);
  StringAttr group = builder.getStringAttr("dp");
  for (BlockArgument argument : entry.getArguments()) {
    auto layout = main.getArgAttrOfType<ShardingAttr>(argument.getArgNumber(),
                                                      kMicrobatchLayoutAttr);
    if (!layout || !layout.isSplit())
      continue;
    auto local = cast<RankedTensorType>(argument.getType());
    argument.setType(globalType(local, layout.getDim(), dp));
    auto rows = ShardSliceOp::create(builder, argument.getLoc(), local, argument,
                                     builder.getI64IntegerAttr(layout.getDim()),
                                     builder.getI64IntegerAttr(layout.getGroups()), group);
    argument.replaceAllUsesExcept(rows.getResult(), rows);
  }
  // Split outputs are gathered, partial sums summed.
  Operation *terminator = entry.getTerminator();
  builder.setInsertionPoint(terminator);
  for (OpOperand &operand : terminator->getOpOperands()) {
    auto layout = main.getResultAttrOfType<ShardingAttr>(
        outputIndex[operand.getOperandNumber()], kMicrobatchLayoutAttr);
    if (!layout || layout.isReplicated())
      continue;
    Value value = operand.get();
    if (layout.isPartial()) {
      operand.set(AllReduceOp::create(builder, value.getLoc(), value.getType(), value, group));
      continue;
    }
    operand.set(AllGatherOp::create(builder, value.getLoc(),
                                    globalType(value.getType(), layout.getDim(), dp), value,
                                    builder.getI64IntegerAttr(layout.getDim()), group));
  }
  function.setFunctionType(FunctionType::get(function.getContext(), entry.getArgumentTypes(),
                                             terminator->getOperandTypes()));
}

struct FinishDataParallelPass
    : mlir::parc::impl::FinishDataParallelPassBase<FinishDataParallelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    std::optional<int64_t> dp = getMeshAxisSize(module, "dp");
    if (!main || !dp || *dp <= 1)
      return;
    if (!main.isExternal()) {
      auto outputs = llvm::to_vector(llvm::seq<int64_t>(0, main.getNumResults()));
      finishFunction(main, main, outputs, *dp);
      return;
    }
    // A pipeline: every stage function, and @main's signature.
    for (auto function : module.getOps<func::FuncOp>())
      if (auto outputs = function->getAttrOfType<DenseI64ArrayAttr>(kOutputsAttr))
        finishFunction(function, main, outputs.asArrayRef(), *dp);
    SmallVector<Type> inputs, results;
    for (auto [i, type] : llvm::enumerate(main.getArgumentTypes())) {
      auto layout = main.getArgAttrOfType<ShardingAttr>(i, kMicrobatchLayoutAttr);
      inputs.push_back(layout && layout.isSplit() ? globalType(type, layout.getDim(), *dp)
                                                  : type);
    }
    for (auto [i, type] : llvm::enumerate(main.getResultTypes())) {
      auto layout = main.getResultAttrOfType<ShardingAttr>(i, kMicrobatchLayoutAttr);
      results.push_back(layout && layout.isSplit() ? globalType(type, layout.getDim(), *dp)
                                                   : type);
    }
    main.setFunctionType(FunctionType::get(main.getContext(), inputs, results));
  }
};

} // namespace
