//===- GradientBuckets.h - data-parallel gradient sums in buckets -*- C++ -*-===//
//
// Data parallelism sums every gradient over the dp ranks. One blocking all-reduce per
// gradient after the backward pass leaves the links idle while it runs and pays each
// collective's latency once per weight; PyTorch DDP and Megatron-LM instead flatten the
// gradients into buckets, in the order the backward pass completes them, and start each
// bucket's all-reduce as soon as its last gradient exists, so the sums overlap the rest of
// the backward pass.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TRANSFORMS_TRAINING_GRADIENTBUCKETS_H
#define PARC_LIB_TRANSFORMS_TRAINING_GRADIENTBUCKETS_H

#include "mlir/IR/Builders.h"

namespace mlir::parc {

/// Sums `gradients` over `group` in buckets of at most `bucketBytes` (a larger gradient
/// is a bucket of its own): each bucket's gradients are flattened and concatenated, its
/// `parc.all_reduce_start` goes right after the op completing its last gradient, and its
/// `parc.all_reduce_wait` at `builder`'s insertion point, where the summed gradients are
/// cut back out. Returns them in the order of `gradients`.
SmallVector<Value> allReduceInBuckets(OpBuilder &builder, Location loc,
                                      ArrayRef<Value> gradients, StringRef group,
                                      int64_t bucketBytes);

} // namespace mlir::parc

#endif // PARC_LIB_TRANSFORMS_TRAINING_GRADIENTBUCKETS_H
