//===- BuildStage.cpp - one stage's scheduled function --------------------===//
//
// Writes one pipeline stage's function: its chunks' forward and backward steps for every
// microbatch in the schedule's order, with the sends and receives between stages and the
// per-step ops after the last microbatch.
//
//===----------------------------------------------------------------------===//

#include "Pipeline/PipelineBuilder.h"

#include "mlir/IR/IRMapping.h"

#include <functional>

using namespace mlir;
using namespace mlir::parc;
using namespace mlir::parc::pipeline;

FailureOr<func::FuncOp> PipelineBuilder::buildStage(int64_t stage,
                                                    ArrayRef<PipelineStep> steps,
                                                    FunctionType wholeType) {
  OpBuilder builder(context);
  builder.setInsertionPoint(main);
  Operation *terminator = main.front().getTerminator();
  SmallVector<int64_t> outputs;
  SmallVector<Type> outputTypes;
  for (unsigned i = 0; i < terminator->getNumOperands(); ++i)
    if (homeOfOutput(i) == stage) {
      outputs.push_back(i);
      outputTypes.push_back(wholeType.getResult(i));
    }
  auto function = func::FuncOp::create(
      builder, main.getLoc(), ("stage" + std::to_string(stage)),
      FunctionType::get(context, wholeType.getInputs(), outputTypes));
  function->setAttr(kStageAttr, builder.getI64IntegerAttr(stage));
  function->setAttr(kOutputsAttr, builder.getDenseI64ArrayAttr(outputs));
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToEnd(entry);

  // The stage function's value for (value of @main, microbatch).
  llvm::DenseMap<std::pair<Value, int64_t>, Value> values;
  // The stage function's value for each per-step value of @main.
  llvm::DenseMap<Value, Value> stepValues;
  // The running sum of each microbatch sum made on this stage.
  llvm::DenseMap<Operation *, Value> runningSums;
  llvm::DenseMap<Operation *, Value> freeClones;
  llvm::DenseMap<std::pair<Value, int64_t>, Value> posted;
  // The last send of each edge still in flight: the value sent and its tag.
  llvm::MapVector<int64_t, std::pair<Value, int64_t>> inFlight;
  NamedAttrList stepAttrs;
  // Marks an op with the step (chunk, microbatch, pass) it belongs to.
  auto mark = [&](Operation *op) {
    op->removeAttr(kOpIdAttr);
    op->removeAttr(kAdjointOfAttr);
    for (NamedAttribute attr : stepAttrs)
      op->setAttr(attr.getName(), attr.getValue());
  };

  std::function<Value(Value, int64_t)> lookup;
  // Clones `op` of @main for `microbatch` at the insertion point, operands mapped.
  auto cloneForMicrobatch = [&](Operation *op, int64_t microbatch) -> FailureOr<Operation *> {
    Operation *clone;
    auto slice = dyn_cast<ShardSliceOp>(op);
    if (slice && slice.getGroup() == "microbatch") {
      // A whole value meeting the batch: this microbatch's rows of it.
      if (slice.getGroups() != 1)
        return op->emitError("cannot take a microbatch of interleaved groups");
      clone = sliceMicrobatch(builder, op->getLoc(), lookup(slice.getInput(), microbatch),
                              slice.getType(), slice.getAxis(), microbatch);
    } else if (auto gather = dyn_cast<AllGatherOp>(op);
               gather && gather.getGroup() == "microbatch") {
      // The backward of such a slice: this microbatch's gradient in its rows of the whole
      // value, zeros elsewhere (the sum over the microbatches comes later, with the
      // weight gradients it flows into).
      clone = padMicrobatch(builder, op->getLoc(), lookup(gather.getInput(), microbatch),
                            gather.getType(), gather.getAxis(), microbatch, microbatches);
    } else {
      IRMapping mapping;
      for (Value operand : op->getOperands())
        mapping.map(operand, lookup(operand, microbatch));
      clone = builder.clone(*op, mapping);
    }
    mark(clone);
    return clone;
  };
  // Clones `op` for `microbatch` and makes its copies the values of its results.
  auto cloneAndRecord = [&](Operation *op, int64_t microbatch) -> FailureOr<Operation *> {
    FailureOr<Operation *> clone = cloneForMicrobatch(op, microbatch);
    if (succeeded(clone))
      for (auto [result, cloned] : llvm::zip(op->getResults(), (*clone)->getResults()))
        values[{result, microbatch}] = cloned;
    return clone;
  };
  lookup = [&](Value value, int64_t microbatch) -> Value {
    if (auto argument = dyn_cast<BlockArgument>(value)) {
      Value &slice = values[{value, microbatch}];
      if (slice)
        return slice;
      Value whole = function.getArgument(argument.getArgNumber());
      auto layout = main.getArgAttrOfType<ShardingAttr>(argument.getArgNumber(),
                                                        kMicrobatchLayoutAttr);
      if (!layout || !layout.isSplit() || microbatches == 1)
        return slice = whole;
      SliceOp op = sliceMicrobatch(builder, main.getLoc(), whole,
                                   cast<RankedTensorType>(argument.getType()),
                                   layout.getDim(), microbatch);
      mark(op);
      return slice = op.getResult();
    }
    Operation *def = value.getDefiningOp();
    if (isPerStep(def))
      return stepValues.lookup(value);
    if (isFree(def) && def->getNumOperands() == 0) {
      // Loaded once, where first needed (which dominates every later use).
      Value &clone = freeClones[def];
      if (!clone) {
        clone = builder.clone(*def)->getResult(0);
        clone.getDefiningOp()->removeAttr(kOpIdAttr);
        clone.getDefiningOp()->removeAttr(kAdjointOfAttr);
      }
      return clone;
    }
    if (isFree(def) && !values.count({value, microbatch}) &&
        failed(cloneAndRecord(def, microbatch)))
      return nullptr;
    return values.lookup({value, microbatch});
  };
  // The value of `value` in every microbatch, and their sum.
  auto microbatchCopies = [&](Value value) {
    SmallVector<Value> copies;
    for (int64_t m = 0; m < microbatches; ++m)
      copies.push_back(lookup(value, m));
    return copies;
  };
  auto sum = [&](ArrayRef<Value> terms, Location loc) {
    Value total = terms.front();
    for (Value term : terms.drop_front())
      total = AddOp::create(builder, loc, total.getType(), total, term);
    return total;
  };
  auto tagOf = [&](int64_t edge, int64_t microbatch) {
    return edge * microbatches + microbatch;
  };
  auto post = [&](const PipelineStep &step) {
    Piece piece{step.chunk * stages + stage, step.forward};
    for (Value value : incomingValues[piece]) {
      Value &buffer = posted[{value, step.microbatch}];
      if (buffer || values.count({value, step.microbatch}))
        continue;
      int64_t from = rankOf(producerChunk(value));
      int64_t edge = edges.lookup({value, stage});
      auto recv = RecvOp::create(builder, value.getLoc(), value.getType(),
                                 builder.getI64IntegerAttr(from),
                                 builder.getI64IntegerAttr(tagOf(edge, step.microbatch)));
      mark(recv);
      buffer = recv.getResult();
    }
  };
  // Sends `sent` along `edge`; the edge's previous send finishes first.
  auto send = [&](Location loc, Value sent, int64_t receiver, int64_t edge, int64_t tag) {
    auto peer = builder.getI64IntegerAttr(receiver);
    auto previous = inFlight.find(edge);
    if (previous != inFlight.end()) {
      auto wait = SendWaitOp::create(builder, loc, previous->second.first, peer,
                                     builder.getI64IntegerAttr(previous->second.second));
      mark(wait);
    }
    auto op = SendOp::create(builder, loc, sent, peer, builder.getI64IntegerAttr(tag));
    mark(op);
    inFlight[edge] = {sent, tag};
  };

  for (auto [index, step] : llvm::enumerate(steps)) {
    Piece piece{step.chunk * stages + stage, step.forward};
    int64_t microbatch = step.microbatch;
    stepAttrs.set(kChunkAttr, builder.getI64IntegerAttr(piece.chunk));
    stepAttrs.set(kMicrobatchAttr, builder.getI64IntegerAttr(microbatch));
    if (step.forward)
      stepAttrs.erase(kBackwardStepAttr);
    else
      stepAttrs.set(kBackwardStepAttr, builder.getUnitAttr());
    // Receive this step's inputs (posted one step ahead), then post the next step's.
    post(step);
    for (Value value : incomingValues[piece]) {
      Value &received = values[{value, microbatch}];
      if (received)
        continue;
      auto wait = RecvWaitOp::create(builder, value.getLoc(), value.getType(),
                                     posted.lookup({value, microbatch}));
      mark(wait);
      received = wait.getResult();
    }
    if (index + 1 < steps.size())
      post(steps[index + 1]);

    // A backward step first computes again what its forward step did not keep; the
    // backward ops read these copies, so the forward step's values die early.
    if (!step.forward && !recomputedOps.empty())
      for (Operation *op : recomputedOps[piece.chunk]) {
        FailureOr<Operation *> clone = cloneAndRecord(op, microbatch);
        if (failed(clone))
          return failure();
        (*clone)->setAttr(kRecomputedAttr, builder.getUnitAttr());
        recomputedFlopsOf[stage] += getOpCost(*clone).flops;
      }

    for (Operation *op : opsOf(piece))
      if (failed(cloneAndRecord(op, microbatch)))
        return failure();
    // Send what other stages need, before anything else: they may be waiting for it.
    for (Operation *op : opsOf(piece))
      for (Value result : op->getResults())
        for (int64_t receiver = 0; receiver < stages; ++receiver) {
          auto edge = edges.find({result, receiver});
          if (edge != edges.end())
            send(result.getLoc(), values.lookup({result, microbatch}), receiver,
                 edge->second, tagOf(edge->second, microbatch));
        }
    // Gradient accumulation: what is summed over the microbatches is added to its running
    // sum as soon as a microbatch computed it (one buffer per sum, not one per microbatch).
    for (Operation *op : opsOf(piece))
      for (Operation *user : op->getUsers())
        if (isMicrobatchSum(user) && perStepHome.lookup(user) == stage &&
            !stagesOf(user).empty()) {
          Value contribution = values.lookup({user->getOperand(0), microbatch});
          Value &running = runningSums[user];
          running = running ? sum({running, contribution}, user->getLoc()) : contribution;
        }
  }

  // Once per step: first the microbatch sums made here (sent on to the other stages that
  // need them), then, in program order, the sums made elsewhere and what follows.
  stepAttrs.clear();
  SmallVector<Operation *> perStep;
  for (Operation &op : main.front())
    if (isPerStep(&op) && stagesOf(&op).count(stage))
      perStep.push_back(&op);
  for (Operation *op : perStep) {
    if (!isMicrobatchSum(op) || perStepHome.lookup(op) != stage)
      continue;
    Value total = runningSums.lookup(op);
    if (!total) // a value no step computes (free): sum its copies
      total = sum(microbatchCopies(op->getOperand(0)), op->getLoc());
    stepValues[op->getResult(0)] = total;
    for (int64_t receiver : stagesOf(op)) {
      auto edge = edges.find({op->getResult(0), receiver});
      if (edge != edges.end())
        send(op->getLoc(), total, receiver, edge->second, tagOf(edge->second, 0));
    }
  }
  for (Operation *op : perStep) {
    if (stepValues.count(op->getResult(0)))
      continue;
    if (isMicrobatchSum(op)) {
      Value result = op->getResult(0);
      int64_t edge = edges.lookup({result, stage});
      auto recv = RecvOp::create(builder, op->getLoc(), result.getType(),
                                 builder.getI64IntegerAttr(perStepHome.lookup(op)),
                                 builder.getI64IntegerAttr(tagOf(edge, 0)));
      stepValues[result] =
          RecvWaitOp::create(builder, op->getLoc(), result.getType(), recv.getResult());
      continue;
    }
    FailureOr<Operation *> clone = cloneForMicrobatch(op, 0);
    if (failed(clone))
      return failure();
    for (auto [result, cloned] : llvm::zip(op->getResults(), (*clone)->getResults()))
      stepValues[result] = cloned;
  }

  for (auto [edge, sent] : inFlight) {
    int64_t receiver = edges.begin()[edge].first.second;
    SendWaitOp::create(builder, main.getLoc(), sent.first,
                       builder.getI64IntegerAttr(receiver),
                       builder.getI64IntegerAttr(sent.second));
  }

  // Put each output back together from its microbatches.
  SmallVector<Value> results;
  for (auto [position, output] : llvm::enumerate(outputs)) {
    Value value = terminator->getOperand(output);
    if (Operation *def = value.getDefiningOp(); def && isPerStep(def)) {
      results.push_back(stepValues.lookup(value));
      continue;
    }
    SmallVector<Value> pieces = microbatchCopies(value);
    auto layout = main.getResultAttrOfType<ShardingAttr>(output, kMicrobatchLayoutAttr);
    Type type = outputTypes[position];
    if (microbatches == 1 || !layout || layout.isReplicated()) {
      results.push_back(pieces.back());
    } else if (layout.isSplit()) {
      results.push_back(ConcatOp::create(builder, value.getLoc(), type, pieces,
                                         builder.getI64IntegerAttr(layout.getDim())));
    } else {
      results.push_back(sum(pieces, value.getLoc()));
    }
  }
  func::ReturnOp::create(builder, main.getLoc(), results);
  return function;
}
