//===- CheckTransfers.cpp - the transfer check as a pass ------------------===//
//
// parc-check-transfers: TransferCheck.h on a module's stage functions, so that the check
// can be tested on hand-written programs.
//
//===----------------------------------------------------------------------===//

#include "Pipeline/TransferCheck.h"

#include "parc/Transforms/Passes.h"

#include <map>

namespace mlir::parc {
#define GEN_PASS_DEF_CHECKTRANSFERSPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct CheckTransfersPass
    : mlir::parc::impl::CheckTransfersPassBase<CheckTransfersPass> {
  void runOnOperation() override {
    std::map<int64_t, func::FuncOp> byStage;
    for (auto function : getOperation().getOps<func::FuncOp>())
      if (auto stage = function->getAttrOfType<IntegerAttr>(kStageAttr))
        byStage[stage.getInt()] = function;
    SmallVector<func::FuncOp> stages;
    for (auto &[index, function] : byStage) {
      if (index != static_cast<int64_t>(stages.size())) {
        function.emitError("stage functions must be numbered 0, 1, ... without gaps");
        return signalPassFailure();
      }
      stages.push_back(function);
    }
    if (failed(checkTransfersFinish(stages)))
      signalPassFailure();
  }
};

} // namespace
