//===- SplitMicrobatches.cpp - one microbatch's program -------------------===//
//
// Rewrites @main to process 1/M of the batch (BatchSplit.h over the "microbatch" axis); see
// the pass description. A whole value that meets split ones is sliced, which the pipeline
// builder turns into the rows of each microbatch.
//
//===----------------------------------------------------------------------===//

#include "BatchSplit.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Dialect/Parc/Transforms/Passes.h"

namespace mlir::parc {
#define GEN_PASS_DEF_SPLITMICROBATCHESPASS
#include "parc/Dialect/Parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct SplitMicrobatchesPass
    : mlir::parc::impl::SplitMicrobatchesPassBase<SplitMicrobatchesPass> {
  using SplitMicrobatchesPassBase::SplitMicrobatchesPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal() || count <= 1)
      return;
    if (failed(splitBatch(main, count, "microbatch", "microbatches")))
      return signalPassFailure();
    main->setAttr(kMicrobatchesAttr,
                  IntegerAttr::get(IntegerType::get(main.getContext(), 64), count));
  }
};

} // namespace
