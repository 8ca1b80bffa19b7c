//===- parc-opt.cpp - run parc and upstream passes on .mlir files ---------===//
//
// The mlir-opt of parc: parses a module, runs the requested passes or pipeline, prints the
// result. Knows the parc dialect, the upstream dialects parc programs use, every pass, and
// parc's whole compile flow (--parc-compile-pipeline="tp=2 pp=2 microbatches=2").
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcDialect.h"
#include "parc/Pipeline/CompilePipeline.h"
#include "parc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  mlir::parc::registerParcPasses();
  mlir::parc::registerCompilePipeline();
  mlir::DialectRegistry registry;
  registry.insert<mlir::parc::ParcDialect, mlir::func::FuncDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "parc optimizer driver\n", registry));
}
