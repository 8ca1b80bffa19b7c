//===- PropagateSharding.cpp - annotate the layouts the rules derive ------===//
//
// Applies decideSharding to every op of @main and records the result layout and any
// reshards as attributes; see the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "parc/Analysis/ShardingPropagation.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {
#define GEN_PASS_DEF_PROPAGATESHARDINGPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct PropagateShardingPass
    : mlir::parc::impl::PropagateShardingPassBase<PropagateShardingPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto [main, ranks] = getTensorParallelMain(module);
    if (!main)
      return;
    ProgramLayout program =
        propagateLayouts(main, getPlannedWeightLayouts(module), ranks);
    if (failed(refuseOpsWithoutRule(program)))
      return signalPassFailure();
    Builder b(module.getContext());
    for (Operation &op : main.front()) {
      if (op.getNumResults() == 1)
        op.setAttr(kShardingAttr, program.of(op.getResult(0), op.getContext()));
      auto it = program.reshards.find(&op);
      if (it != program.reshards.end())
        op.setAttr(kReshardAttr,
                   b.getArrayAttr(SmallVector<Attribute>(it->second.begin(),
                                                         it->second.end())));
    }
  }
};

} // namespace
