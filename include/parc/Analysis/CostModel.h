//===- CostModel.h - a rank's program priced on a machine profile -*- C++ -*-===//
//
// Prices each op of a rank's program on a machine profile: compute and memory-bound ops
// by the roofline (their FLOPs and bytes from CostOpInterface), collectives and transfers
// by the ring alpha-beta formulas on the link their group uses (CostFormulas.h). The sum
// over the program, in program order without overlap, is the predicted time of one run.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_COSTMODEL_H
#define PARC_ANALYSIS_COSTMODEL_H

#include "parc/Analysis/MachineProfile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::parc {

struct ProgramTime {
  double compute = 0;       // kernels: the roofline of each op
  double communication = 0; // collectives and transfers
  double total() const { return compute + communication; }
};

/// The predicted time of `op` on `machine`: communication for collectives and
/// transfers, compute otherwise (ops that only rename memory, such as reshape, cost
/// nothing).
ProgramTime predictOpTime(Operation *op, const MachineProfile &machine);

/// The predicted time of one run of `function` (a rank's program) on `machine`.
ProgramTime predictProgramTime(func::FuncOp function, const MachineProfile &machine);

} // namespace mlir::parc

#endif // PARC_ANALYSIS_COSTMODEL_H
