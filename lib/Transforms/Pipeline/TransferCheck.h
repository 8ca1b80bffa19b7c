//===- TransferCheck.h - can a pipeline's transfers all finish? -*- C++ -*-===//
//
// Pipeline stages exchange tensors with non-blocking sends and receives and wait for them
// later (parc.send / send_wait, parc.recv / recv_wait). Under Gloo a send finishes only
// once its receiver has posted the matching receive, and a receive only once the sender
// has started the send. Whether every wait of a set of stage programs is eventually
// satisfied is therefore a property of the programs alone, and the compiler checks it:
// a program that would hang at run time is a compile-time error instead.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_TRANSFORMS_PIPELINE_TRANSFERCHECK_H
#define PARC_LIB_TRANSFORMS_PIPELINE_TRANSFERCHECK_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::parc {

/// Runs the stages' transfers (stage `s` is `stages[s]`) as the runtime would, each stage
/// advancing until it waits for a transfer its peer has not started; fails with an error
/// at the first wait that can never finish when every stage is stuck.
LogicalResult checkTransfersFinish(ArrayRef<func::FuncOp> stages);

} // namespace mlir::parc

#endif // PARC_LIB_TRANSFORMS_PIPELINE_TRANSFERCHECK_H
