//===- SplitMicrobatches.cpp - one microbatch's program -------------------===//
//
// Rewrites @main to process 1/M of the batch (BatchSplit.h over the "microbatch" axis); see
// the pass description. A whole value that meets split ones is sliced, which the pipeline
// builder turns into the rows of each microbatch.
//
//===----------------------------------------------------------------------===//

#include "Partition/BatchSplit.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

namespace mlir::parc {
#define GEN_PASS_DEF_SPLITMICROBATCHESPASS
#include "parc/Transforms/Passes.h.inc"
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
    if (!main || main.isExternal() || count < 1)
      return;
    // One microbatch leaves the program whole; the mark still tells later passes that
    // the pipeline build will run it.
    if (count > 1 && failed(splitBatch(main, count, "microbatch", "microbatches")))
      return signalPassFailure();
    if (count == 1) // the whole batch is the program's (one dp rank's share of it)
      main->setAttr(kWholeBatchTypeAttr, TypeAttr::get(main.getFunctionType()));
    main->setAttr(kMicrobatchesAttr,
                  IntegerAttr::get(IntegerType::get(main.getContext(), 64), count));
  }
};

} // namespace
