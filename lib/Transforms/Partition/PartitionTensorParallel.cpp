//===- PartitionTensorParallel.cpp - the SPMD rewrite ---------------------===//
//
// Rewrites @main into what each tensor-parallel rank runs; see the pass description.
//
//===----------------------------------------------------------------------===//

#include "Partition/SpmdRewriter.h"

#include "parc/Analysis/ShardingPropagation.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {
#define GEN_PASS_DEF_PARTITIONTENSORPARALLELPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct PartitionTensorParallelPass
    : mlir::parc::impl::PartitionTensorParallelPassBase<PartitionTensorParallelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto [main, ranks] = getTensorParallelMain(module);
    if (!main || ranks <= 1)
      return;
    ProgramLayout program =
        propagateLayouts(main, getPlannedWeightLayouts(module), ranks);
    if (failed(refuseOpsWithoutRule(program)))
      return signalPassFailure();
    SpmdRewriter(main, program, ranks, "tp").run();
    for (auto weight : module.getOps<WeightOp>()) {
      if (auto plan = weight->getAttrOfType<ShardingAttr>(kPlannedShardingAttr)) {
        weight.setShardingAttr(plan);
        weight->removeAttr(kPlannedShardingAttr);
      }
    }
  }
};

} // namespace
