//===- ShardingPropagation.cpp - layouts of a whole program ---------------===//

#include "parc/Analysis/ShardingPropagation.h"

using namespace mlir;
using namespace mlir::parc;

std::pair<func::FuncOp, int64_t>
mlir::parc::getTensorParallelMain(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main || main.isExternal())
    return {nullptr, 1};
  return {main, getMeshAxisSize(main, "tp").value_or(1)};
}

llvm::StringMap<ShardingAttr> mlir::parc::getPlannedWeightLayouts(ModuleOp module) {
  llvm::StringMap<ShardingAttr> weights;
  for (auto weight : module.getOps<WeightOp>())
    if (auto plan = weight->getAttrOfType<ShardingAttr>(kPlannedShardingAttr))
      weights[weight.getSymName()] = plan;
  return weights;
}

ProgramLayout mlir::parc::propagateLayouts(func::FuncOp function,
                                           const llvm::StringMap<ShardingAttr> &weights,
                                           int64_t ranks,
                                           ArrayRef<ShardingAttr> arguments,
                                           bool replicatedResults) {
  ProgramLayout program;
  MLIRContext *context = function.getContext();
  ShardingAttr replicated = ShardingAttr::getReplicated(context);
  for (auto [argument, layout] : llvm::zip(function.getArguments(), arguments))
    if (layout)
      program.values[argument] = layout;
  for (Operation &op : function.front()) {
    SmallVector<ShardingAttr> given;
    for (Value operand : op.getOperands())
      given.push_back(program.of(operand, context));
    SmallVector<ShardingAttr> required;
    if (isa<func::ReturnOp>(op)) {
      if (!replicatedResults)
        continue;
      required.assign(given.size(), replicated);
    } else if (auto load = dyn_cast<LoadWeightOp>(op)) {
      auto it = weights.find(load.getName());
      program.values[load.getResult()] =
          it != weights.end() && it->second ? it->second : replicated;
      continue;
    } else {
      std::optional<ShardingDecision> decision = decideSharding(&op, given, ranks);
      if (!decision) {
        program.withoutRule.push_back(&op);
        decision = replicateEverything(&op);
      }
      required = std::move(decision->operands);
      for (Value result : op.getResults())
        program.values[result] = decision->result;
    }
    if (required != given)
      program.reshards[&op] = std::move(required);
  }
  return program;
}

LogicalResult mlir::parc::refuseOpsWithoutRule(const ProgramLayout &program) {
  for (Operation *op : program.withoutRule)
    op->emitError("'") << op->getName()
                       << "' has no sharding rule (ShardingOpInterface): it cannot be "
                          "partitioned over tensor-parallel ranks";
  return success(program.withoutRule.empty());
}
