//===- SplitMicrobatches.cpp - one microbatch's program -------------------===//
//
// Rewrites @main to process 1/M of the batch; see the pass description. The batch split is
// the tensor-parallel machinery applied to a "microbatch" axis of M parts: the inputs that
// carry the batch are split along dim 0, every weight is whole, and the sharding rules carry
// the split through the graph. A value the rules would have to gather back (an op that mixes
// samples) makes the split impossible; a whole value that meets split ones is sliced, which
// the pipeline builder turns into the rows of each microbatch.
//
//===----------------------------------------------------------------------===//

#include "SpmdRewriter.h"

#include "parc/Analysis/ShardingPropagation.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Dialect/Parc/Transforms/Passes.h"

namespace mlir::parc {
#define GEN_PASS_DEF_SPLITMICROBATCHESPASS
#include "parc/Dialect/Parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

std::string inputName(func::FuncOp main, unsigned index) {
  if (auto name = main.getArgAttrOfType<StringAttr>(index, kOnnxNameAttr))
    return name.str();
  return "#" + std::to_string(index);
}

struct SplitMicrobatchesPass
    : mlir::parc::impl::SplitMicrobatchesPassBase<SplitMicrobatchesPass> {
  using SplitMicrobatchesPassBase::SplitMicrobatchesPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal() || count <= 1)
      return;
    if (failed(split(main)))
      signalPassFailure();
  }

  LogicalResult split(func::FuncOp main) {
    MLIRContext *context = main.getContext();
    // The batch is dim 0 of the first input that has dims.
    std::optional<unsigned> batchInput;
    for (BlockArgument argument : main.getArguments())
      if (cast<RankedTensorType>(argument.getType()).getRank() > 0) {
        batchInput = argument.getArgNumber();
        break;
      }
    if (!batchInput)
      return main.emitError("cannot split into ")
             << count.getValue() << " microbatches: no graph input has a batch dimension";
    int64_t batch =
        cast<RankedTensorType>(main.getArgument(*batchInput).getType()).getDimSize(0);
    if (batch % count != 0)
      return main.emitError("--microbatches=")
             << count.getValue() << " does not divide the batch of " << batch << " (dim 0 of input '"
             << inputName(main, *batchInput) << "')";

    // Inputs whose dim 0 is the batch are split; others (a [1, seq] position table) are
    // whole in every microbatch.
    ShardingAttr batchSplit = ShardingAttr::getSplit(context, 0, 1);
    SmallVector<ShardingAttr> arguments;
    for (BlockArgument argument : main.getArguments()) {
      auto type = cast<RankedTensorType>(argument.getType());
      bool carriesBatch = type.getRank() > 0 && type.getDimSize(0) == batch;
      arguments.push_back(carriesBatch ? batchSplit : ShardingAttr());
    }
    ProgramLayout program = propagateLayouts(main, {}, count, arguments,
                                             /*replicatedResults=*/false);
    for (Operation &op : main.front()) {
      if (auto gather = dyn_cast<GatherOp>(op)) {
        ShardingAttr table = program.of(gather.getInput(), context);
        if (table.isSplit() && table.getDim() == gather.getAxis())
          return op.emitError("cannot split the batch into microbatches: the lookup "
                              "indexes along the batch dimension");
      }
      auto reshards = program.reshards.find(&op);
      if (reshards == program.reshards.end())
        continue;
      for (auto [i, operand] : llvm::enumerate(op.getOperands())) {
        ShardingAttr given = program.of(operand, context);
        if (given != reshards->second[i] && !given.isReplicated())
          return op.emitError("cannot split the batch into microbatches: '")
                 << op.getName() << "' needs operand #" << i
                 << " whole across the batch (it mixes samples)";
      }
    }
    for (Value value : main.getBody().front().getTerminator()->getOperands()) {
      ShardingAttr sharding = program.of(value, context);
      if (sharding.isSplit() && sharding.getGroups() != 1)
        return main.emitError("cannot split the batch into microbatches: an output is "
                              "laid out in interleaved groups");
    }

    FunctionType wholeType = main.getFunctionType();
    SpmdRewriter rewriter(main, program, count, "microbatch");
    rewriter.run();
    for (auto [argument, layout] : llvm::zip(main.getArguments(), arguments)) {
      ShardingAttr sharding = layout ? layout : ShardingAttr::getReplicated(context);
      main.setArgAttr(argument.getArgNumber(), kMicrobatchLayoutAttr, sharding);
      argument.setType(
          rewriter.localType(cast<RankedTensorType>(argument.getType()), sharding));
    }
    Operation *terminator = main.getBody().front().getTerminator();
    for (auto [i, value] : llvm::enumerate(terminator->getOperands()))
      main.setResultAttr(i, kMicrobatchLayoutAttr, program.of(value, context));
    main.setFunctionType(FunctionType::get(context, main.getBody().getArgumentTypes(),
                                           terminator->getOperandTypes()));
    main->setAttr(kMicrobatchesAttr, IntegerAttr::get(IntegerType::get(context, 64), count));
    main->setAttr(kWholeBatchTypeAttr, TypeAttr::get(wholeType));
    return success();
  }
};

} // namespace
