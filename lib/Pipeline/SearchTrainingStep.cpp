//===- SearchTrainingStep.cpp - the backward pass the layout search prices ===//
//
// The layout search prices a training step's backward pass from the program parc builds
// for it, not from a rule of thumb: the loss, the gradient of every op (the transposes,
// reductions and scatters parc-differentiate emits with its GEMMs) and what the
// canonicalizer leaves of them. It is built once, on one device at the global batch; the
// search scales each backward op with the forward op it belongs to (the tensor-parallel
// share, the microbatch, the pipeline stage).
//
//===----------------------------------------------------------------------===//

#include "parc/Pipeline/CompilePipeline.h"

#include "parc/Dialect/Parc/IR/ParcDiscardableAttrs.h"
#include "parc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::parc;

OwningOpRef<ModuleOp> mlir::parc::buildSearchTrainingStep(ModuleOp module,
                                                         const CompileOptions &options) {
  OwningOpRef<ModuleOp> step(cast<ModuleOp>(module->clone()));
  auto original = module.lookupSymbol<func::FuncOp>("main");
  auto copy = step->lookupSymbol<func::FuncOp>("main");
  if (!original || !copy)
    return nullptr;
  Builder builder(module.getContext());
  // The copy's body is op for op the original's.
  for (auto [index, op] : llvm::enumerate(copy.front()))
    op.setAttr(kForwardIndexAttr, builder.getI64IntegerAttr(index));

  PassManager pm(module.getContext());
  pm.addPass(createAddLossPass({options.loss}));
  DifferentiatePassOptions backward;
  backward.linkAdjoints = true; // each backward op names its forward op
  pm.addPass(createDifferentiatePass(backward));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(*step)))
    return nullptr;
  return step;
}
