//===- StagePartitioner.h - cutting a program into pipeline stages -*- C++ -*-===//
//
// Cuts a function's ops, in program order, into `stages` contiguous stages whose modelled
// times are as even as possible: the heaviest stage is the smallest it can be (found by a
// binary search over the load with a greedy fill), then the cuts move to where the slowest
// stage, counting the time to receive what crosses its first cut, is fastest, ties going to
// fewer bytes sent (a dynamic program over cut positions). Any DAG works: a value used in a
// later stage (a residual connection, a skip) is a crossing, sent to every later stage that
// uses it; the function's arguments are read by every stage and never cross. Weights and
// literals cost nothing and go with their first user (a weight used by two stages, such as
// a tied embedding, is loaded by both). Ops left out of the cut (`include`) that an included
// op reads are charged to their first included reader. Under a memory limit, no stage may
// hold more weight bytes than the limit.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_ANALYSIS_STAGEPARTITIONER_H
#define PARC_ANALYSIS_STAGEPARTITIONER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <vector>

namespace mlir::parc {

struct StagePartition {
  /// The stage of every op of the function's body, in order (the return is in the last);
  /// -1 for the ops left out.
  std::vector<int64_t> stageOfOp;
  /// Modelled seconds of each stage.
  std::vector<double> stageSeconds;
  /// Bytes that cross into each stage from earlier ones.
  std::vector<double> incomingBytes;
  /// Bytes of the weights each stage loads.
  std::vector<double> weightBytes;
  /// Ops with work in each stage.
  std::vector<int64_t> opCount;
  /// Heaviest stage over the ideal (total / stages): 1.0 is perfect balance.
  double imbalance = 1;
};

/// The modelled seconds of one op (its arithmetic and the bytes it writes) under the
/// compile flow's fixed figures; what the partitioner balances by default.
double modelledSeconds(Operation *op);

/// The modelled seconds of sending `bytes` to another stage under the fixed figures.
double modelledTransferSeconds(double bytes);

/// What a partition balances: the seconds of one op, and the bytes per second a stage
/// receives its inputs at. The default is the compile flow's fixed figures; the layout
/// search passes the machine profile's (ParallelSearch.cpp).
struct StageCostModel {
  std::function<double(Operation *)> opSeconds = modelledSeconds;
  double linkBytesPerSecond = 10e9;
};

/// Cuts `function` into `stages` stages, each holding at most `memoryLimitBytes` of weights
/// (no limit when 0); fails (with an error at the function) when it has fewer ops with work
/// than stages or the weights do not fit. With `include`, only the ops it accepts are cut
/// (a training step's forward pass: its backward ops follow their forward ops' stages).
/// Without `weighTransfers`, the cut is the greedy fill's, balancing load alone.
FailureOr<StagePartition>
partitionStages(func::FuncOp function, int64_t stages, double memoryLimitBytes = 0,
                llvm::function_ref<bool(Operation *)> include = nullptr,
                bool weighTransfers = true, const StageCostModel &model = {});

} // namespace mlir::parc

#endif // PARC_ANALYSIS_STAGEPARTITIONER_H
