//===- BatchSplit.h - one part of the batch per microbatch or rank -*- C++ -*-===//
//
// The batch split shared by the microbatch split and data parallelism: @main is rewritten
// to process 1/count of the batch (dim 0 of the inputs that carry it), the sharding rules
// carrying the split through the graph over the mesh axis `axis` ("microbatch" or "dp").
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TRANSFORMS_PARTITION_BATCHSPLIT_H
#define PARC_LIB_TRANSFORMS_PARTITION_BATCHSPLIT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::parc {

/// Rewrites `main` to one of `count` parts of its batch; arguments and results get their
/// layout over the parts (`parc.microbatch_layout`) and @main its whole-batch type
/// (`parc.whole_batch_type`). Errors name `flag` (the option that asked, without "--"):
/// a count that does not divide the batch, an op that mixes samples.
LogicalResult splitBatch(func::FuncOp main, int64_t count, StringRef axis, StringRef flag);

} // namespace mlir::parc

#endif // PARC_LIB_TRANSFORMS_PARTITION_BATCHSPLIT_H
