//===- PlanTensorParallel.cpp - record the planner's weight layouts -------===//

#include "parc/Analysis/TensorParallelPlanner.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

namespace mlir::parc {
#define GEN_PASS_DEF_PLANTENSORPARALLELPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct PlanTensorParallelPass
    : mlir::parc::impl::PlanTensorParallelPassBase<PlanTensorParallelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto [main, ranks] = getTensorParallelMain(module);
    if (!main || ranks <= 1)
      return;
    TensorParallelCostModel model;
    model.ranks = ranks;
    TensorParallelPlan plan = planTensorParallel(main, model);
    for (auto weight : module.getOps<WeightOp>()) {
      weight->removeAttr(kPlannedShardingAttr);
      ShardingAttr sharding = plan.weights.lookup(weight.getSymName());
      if (sharding && sharding.isSplit())
        weight->setAttr(kPlannedShardingAttr, sharding);
    }
  }
};

} // namespace
