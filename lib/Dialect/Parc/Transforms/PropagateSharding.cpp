//===- PropagateSharding.cpp - annotate the layouts the rules derive ------===//
//
// Applies decideSharding to every op of @main and records the result layout and any
// reshards as attributes; see the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "parc/Analysis/ShardingRules.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Dialect/Parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {
#define GEN_PASS_DEF_PROPAGATESHARDINGPASS
#include "parc/Dialect/Parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct PropagateShardingPass
    : mlir::parc::impl::PropagateShardingPassBase<PropagateShardingPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    MLIRContext *context = module.getContext();
    int64_t ranks = getMeshAxisSize(main, "tp").value_or(1);
    ShardingAttr replicated = ShardingAttr::getReplicated(context);
    Builder b(context);

    llvm::DenseMap<Value, ShardingAttr> layout;
    auto layoutOf = [&](Value value) {
      ShardingAttr sharding = layout.lookup(value);
      return sharding ? sharding : replicated;
    };
    for (Operation &op : main.front()) {
      SmallVector<ShardingAttr> given;
      for (Value operand : op.getOperands())
        given.push_back(layoutOf(operand));
      SmallVector<ShardingAttr> required;
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        required.assign(given.size(), replicated);
      } else if (auto load = dyn_cast<LoadWeightOp>(op)) {
        auto weight = module.lookupSymbol<WeightOp>(load.getName());
        ShardingAttr sharding =
            weight ? weight->getAttrOfType<ShardingAttr>(kPlannedShardingAttr)
                   : ShardingAttr();
        layout[load.getResult()] = sharding ? sharding : replicated;
        op.setAttr("parc.sharding", layout[load.getResult()]);
        continue;
      } else {
        ShardingDecision decision = decideSharding(&op, given, ranks);
        required = decision.operands;
        for (Value result : op.getResults())
          layout[result] = decision.result;
        op.setAttr("parc.sharding", decision.result);
      }
      if (required != given)
        op.setAttr("parc.reshard",
                   b.getArrayAttr(SmallVector<Attribute>(required.begin(),
                                                         required.end())));
    }
  }
};

} // namespace
