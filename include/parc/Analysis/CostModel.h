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

/// Whether `op` is a transpose that moves the innermost dim: its reads or its writes are
/// strided, so it streams at the device's transpose_efficiency. (One that keeps the
/// innermost dim, such as attention's [0, 2, 1, 3], copies whole rows.)
bool isStridedTranspose(Operation *op);

/// Whether `op` transposes the last two dims of a tensor only GEMMs read: on a device whose
/// GEMM library reads operands transposed (gemm_transposes_operands), it costs nothing.
bool isGemmOperandTranspose(Operation *op);

/// The bytes a rank reads and writes to lay out the buffer of an all-gather or a
/// reduce-scatter of the whole tensor `whole` along `dim`: collective libraries (Gloo,
/// NCCL) move contiguous blocks, rank after rank, so along a dim with larger dims before
/// it the gathered [ranks][outer][part] is swapped into [outer][ranks][part] (or the input
/// packed the other way): the whole tensor read once and written once. Zero along a
/// leading dim.
double collectiveRelayoutBytes(RankedTensorType whole, int64_t dim);

/// The predicted time of `op` on `machine`: communication for collectives and
/// transfers, compute otherwise (ops that only rename memory, such as reshape, cost
/// nothing).
ProgramTime predictOpTime(Operation *op, const MachineProfile &machine);

/// The predicted time of one run of `function` (a rank's program) on `machine`.
ProgramTime predictProgramTime(func::FuncOp function, const MachineProfile &machine);

} // namespace mlir::parc

#endif // PARC_ANALYSIS_COSTMODEL_H
