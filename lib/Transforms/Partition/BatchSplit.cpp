//===- BatchSplit.cpp - one part of the batch per microbatch or rank ------===//
//
// The batch split is the tensor-parallel machinery applied to an axis of `count` parts:
// the inputs that carry the batch are split along dim 0, every weight is whole, and the
// sharding rules carry the split through the graph. A value the rules would have to gather
// back (an op that mixes samples) makes the split impossible; a whole value that meets
// split ones becomes a shard_slice over the axis.
//
//===----------------------------------------------------------------------===//

#include "Partition/BatchSplit.h"
#include "Partition/SpmdRewriter.h"

#include "parc/Analysis/ShardingPropagation.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

using namespace mlir;
using namespace mlir::parc;

static std::string inputName(func::FuncOp main, unsigned index) {
  if (auto name = main.getArgAttrOfType<StringAttr>(index, kOnnxNameAttr))
    return name.str();
  return "#" + std::to_string(index);
}

LogicalResult mlir::parc::splitBatch(func::FuncOp main, int64_t count, StringRef axis,
                                     StringRef flag) {
  MLIRContext *context = main.getContext();
  // The batch is dim 0 of the first input that has dims.
  std::optional<unsigned> batchInput;
  for (BlockArgument argument : main.getArguments())
    if (cast<RankedTensorType>(argument.getType()).getRank() > 0) {
      batchInput = argument.getArgNumber();
      break;
    }
  if (!batchInput)
    return main.emitError("--")
           << flag << "=" << count << ": no graph input has a batch dimension to split";
  int64_t batch =
      cast<RankedTensorType>(main.getArgument(*batchInput).getType()).getDimSize(0);
  if (batch % count != 0)
    return main.emitError("--")
           << flag << "=" << count << " does not divide the batch of " << batch
           << " (dim 0 of input '" << inputName(main, *batchInput) << "')";

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
        return op.emitError("cannot split the batch (" + flag.str() + "): the lookup "
                            "indexes along the batch dimension");
    }
    auto reshards = program.reshards.find(&op);
    if (reshards == program.reshards.end())
      continue;
    for (auto [i, operand] : llvm::enumerate(op.getOperands())) {
      ShardingAttr given = program.of(operand, context);
      if (given != reshards->second[i] && !given.isReplicated())
        return op.emitError("cannot split the batch (") << flag << "): '"
               << op.getName() << "' needs operand #" << i
               << " whole across the batch (it mixes samples)";
    }
  }
  for (Value value : main.getBody().front().getTerminator()->getOperands()) {
    ShardingAttr sharding = program.of(value, context);
    if (sharding.isSplit() && sharding.getGroups() != 1)
      return main.emitError("cannot split the batch (") << flag
                                                   << "): an output is laid out in "
                                                      "interleaved groups";
  }

  FunctionType wholeType = main.getFunctionType();
  SpmdRewriter rewriter(main, program, count, axis);
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
  main->setAttr(kWholeBatchTypeAttr, TypeAttr::get(wholeType));
  return success();
}
