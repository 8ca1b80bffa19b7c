//===- PlanReport.h - the plan parc-compile --report prints -----*- C++ -*-===//
//
// Describes a partitioned module for people: how each weight is laid out over the
// tensor-parallel ranks and why a large one stayed whole, and every collective with the
// size of the tensor it moves in one forward pass.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_TARGET_REPORT_PLANREPORT_H
#define PARC_TARGET_REPORT_PLANREPORT_H

#include "parc/Analysis/MachineProfile.h"
#include "parc/Analysis/ParallelSearch.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::parc {

/// Prints the weight layouts and collectives of `module`'s @main to `os`.
void printPlanReport(ModuleOp module, llvm::raw_ostream &os);

/// Prints the cost model's predicted time of one run of rank 0's program on `machine`,
/// `ranks` of whose devices run the job (parc-compile --report --cluster). A pipelined
/// program is priced as the layout search prices its layout: `priced` is that layout as
/// the search evaluated it (a fitting one: the search fails on a layout that does not
/// fit), or `unpriced` says why the search could not.
void printPredictedTime(ModuleOp module, const MachineProfile &machine, int64_t ranks,
                        llvm::raw_ostream &os, const LayoutCandidate *priced = nullptr,
                        llvm::StringRef unpriced = "");

} // namespace mlir::parc

#endif // PARC_TARGET_REPORT_PLANREPORT_H
