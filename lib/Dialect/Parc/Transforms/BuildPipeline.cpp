//===- BuildPipeline.cpp - per-stage programs with their schedule ---------===//
//
// Cuts @main (one microbatch's program) into pipeline chunks and writes, for every pipeline
// stage, one function that runs its chunks for every microbatch in the order the schedule
// fixes, with the transfers between stages; see the pass description.
//
//===----------------------------------------------------------------------===//

#include "parc/Analysis/PipelineSchedule.h"
#include "parc/Analysis/StagePartitioner.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Dialect/Parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"

#include <functional>
#include <set>

namespace mlir::parc {
#define GEN_PASS_DEF_BUILDPIPELINEPASS
#include "parc/Dialect/Parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

/// Bytes per second between two stages, for the schedule simulation (the tensor-parallel
/// cost model's link).
constexpr double kLinkBytesPerSecond = 10e9;

/// Microbatch `microbatch`'s rows of `whole` along `dim`: a slice of type `local`.
SliceOp sliceMicrobatch(OpBuilder &builder, Location loc, Value whole,
                        RankedTensorType local, int64_t dim, int64_t microbatch) {
  auto wholeType = cast<RankedTensorType>(whole.getType());
  int64_t rows = local.getDimSize(dim);
  SmallVector<int64_t> starts(wholeType.getRank(), 0), strides(wholeType.getRank(), 1);
  SmallVector<int64_t> limits(wholeType.getShape());
  starts[dim] = microbatch * rows;
  limits[dim] = starts[dim] + rows;
  return SliceOp::create(builder, loc, local, whole, builder.getDenseI64ArrayAttr(starts),
                         builder.getDenseI64ArrayAttr(limits),
                         builder.getDenseI64ArrayAttr(strides));
}

/// Builds the stage functions from @main and its partition into chunks.
class PipelineBuilder {
public:
  PipelineBuilder(func::FuncOp main, const StagePartition &partition, int64_t stages,
                  int64_t microbatches)
      : main(main), stages(stages), microbatches(microbatches),
        context(main.getContext()) {
    chunks = static_cast<int64_t>(partition.stageSeconds.size());
    chunkOps.resize(chunks);
    for (auto [op, chunk] : llvm::zip(main.front(), partition.stageOfOp)) {
      chunkOf[&op] = chunk;
      bool onFreeValues = op.getNumOperands() > 0 &&
                          llvm::all_of(op.getOperands(), [&](Value operand) {
                            Operation *def = operand.getDefiningOp();
                            return def && isFree(def);
                          });
      if (isa<LoadWeightOp, ConstantOp>(op) || (onFreeValues && !isa<func::ReturnOp>(op)))
        freeOps.insert(&op);
      else if (!isa<func::ReturnOp>(op))
        chunkOps[chunk].push_back(&op);
    }
    numberEdges();
    for (int64_t chunk = 0; chunk < chunks; ++chunk)
      incomingValues.push_back(collectIncoming(chunk));
  }

  /// Builds the function of pipeline stage `stage`, running `steps` in order.
  FailureOr<func::FuncOp> buildStage(int64_t stage, ArrayRef<PipelineStep> steps,
                                     FunctionType wholeType);

private:
  /// Weights, literals and what is computed from them alone (a mask, a microbatch's rows
  /// of it): every stage computes these itself instead of receiving them.
  bool isFree(Operation *op) const { return freeOps.contains(op); }
  int64_t rankOf(int64_t chunk) const { return chunk % stages; }
  /// The chunk computing `value`, or -1 for arguments and weights and literals.
  int64_t producerChunk(Value value) const {
    Operation *def = value.getDefiningOp();
    return def && !isFree(def) ? chunkOf.lookup(def) : -1;
  }
  void numberEdges();
  /// The values chunk `chunk` reads that another stage computes, in order of first use.
  SmallVector<Value> collectIncoming(int64_t chunk) const;
  ArrayRef<Value> incoming(int64_t chunk) const { return incomingValues[chunk]; }

  func::FuncOp main;
  int64_t stages, microbatches, chunks;
  MLIRContext *context;
  llvm::DenseMap<Operation *, int64_t> chunkOf;
  llvm::DenseSet<Operation *> freeOps;
  std::vector<std::vector<Operation *>> chunkOps;
  /// collectIncoming of each chunk, asked for at every step of every stage.
  std::vector<SmallVector<Value>> incomingValues;
  /// Every (value, receiving stage) pair, numbered: the transfer of microbatch m has tag
  /// number * microbatches + m.
  llvm::MapVector<std::pair<Value, int64_t>, int64_t> edges;
};

void PipelineBuilder::numberEdges() {
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    for (Operation *op : chunkOps[chunk])
      for (Value result : op->getResults()) {
        std::set<int64_t> receivers;
        for (Operation *user : result.getUsers())
          if (!isa<func::ReturnOp>(user) && rankOf(chunkOf.lookup(user)) != rankOf(chunk))
            receivers.insert(rankOf(chunkOf.lookup(user)));
        for (int64_t receiver : receivers)
          edges.insert({{result, receiver}, static_cast<int64_t>(edges.size())});
      }
}

SmallVector<Value> PipelineBuilder::collectIncoming(int64_t chunk) const {
  SmallVector<Value> values;
  llvm::DenseSet<Value> seen;
  for (Operation *op : chunkOps[chunk])
    for (Value operand : op->getOperands()) {
      int64_t producer = producerChunk(operand);
      if (producer >= 0 && rankOf(producer) != rankOf(chunk) && seen.insert(operand).second)
        values.push_back(operand);
    }
  return values;
}

FailureOr<func::FuncOp> PipelineBuilder::buildStage(int64_t stage,
                                                    ArrayRef<PipelineStep> steps,
                                                    FunctionType wholeType) {
  OpBuilder builder(context);
  builder.setInsertionPoint(main);
  Operation *terminator = main.front().getTerminator();
  SmallVector<int64_t> outputs;
  SmallVector<Type> outputTypes;
  for (auto [i, value] : llvm::enumerate(terminator->getOperands())) {
    int64_t producer = producerChunk(value);
    if ((producer >= 0 ? rankOf(producer) : stages - 1) == stage) {
      outputs.push_back(i);
      outputTypes.push_back(wholeType.getResult(i));
    }
  }
  auto function = func::FuncOp::create(
      builder, main.getLoc(), ("stage" + std::to_string(stage)),
      FunctionType::get(context, wholeType.getInputs(), outputTypes));
  function->setAttr("parc.stage", builder.getI64IntegerAttr(stage));
  function->setAttr("parc.outputs", builder.getDenseI64ArrayAttr(outputs));
  Block *entry = function.addEntryBlock();
  builder.setInsertionPointToEnd(entry);

  // The stage function's value for (value of @main, microbatch).
  llvm::DenseMap<std::pair<Value, int64_t>, Value> values;
  llvm::DenseMap<Operation *, Value> freeClones;
  llvm::DenseMap<std::pair<Value, int64_t>, Value> posted;
  // The last send of each edge still in flight: the value sent and its tag.
  llvm::MapVector<int64_t, std::pair<Value, int64_t>> inFlight;
  NamedAttrList stepAttrs;
  // Marks an op with the step (chunk, microbatch) it belongs to.
  auto mark = [&](Operation *op) {
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
    } else {
      IRMapping mapping;
      for (Value operand : op->getOperands())
        mapping.map(operand, lookup(operand, microbatch));
      clone = builder.clone(*op, mapping);
    }
    mark(clone);
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
      if (!layout || !layout.isSplit())
        return slice = whole;
      SliceOp op = sliceMicrobatch(builder, main.getLoc(), whole,
                                   cast<RankedTensorType>(argument.getType()),
                                   layout.getDim(), microbatch);
      mark(op);
      return slice = op.getResult();
    }
    Operation *def = value.getDefiningOp();
    if (isFree(def) && def->getNumOperands() == 0) {
      // Loaded once, where first needed (which dominates every later use).
      Value &clone = freeClones[def];
      if (!clone)
        clone = builder.clone(*def)->getResult(0);
      return clone;
    }
    if (isFree(def) && !values.count({value, microbatch})) {
      FailureOr<Operation *> clone = cloneForMicrobatch(def, microbatch);
      if (failed(clone))
        return nullptr;
      for (auto [result, cloned] : llvm::zip(def->getResults(), (*clone)->getResults()))
        values[{result, microbatch}] = cloned;
    }
    return values.lookup({value, microbatch});
  };
  auto tagOf = [&](int64_t edge, int64_t microbatch) {
    return edge * microbatches + microbatch;
  };
  auto post = [&](const PipelineStep &step) {
    int64_t chunk = step.chunk * stages + stage;
    for (Value value : incoming(chunk)) {
      Value &buffer = posted[{value, step.microbatch}];
      if (buffer)
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

  for (auto [index, step] : llvm::enumerate(steps)) {
    if (!step.forward)
      return main.emitError("backward passes are built by the training pipeline");
    int64_t chunk = step.chunk * stages + stage, microbatch = step.microbatch;
    stepAttrs.set("parc.chunk", builder.getI64IntegerAttr(chunk));
    stepAttrs.set("parc.microbatch", builder.getI64IntegerAttr(microbatch));
    // Receive this step's inputs (posted one step ahead), then post the next step's.
    post(step);
    for (Value value : incoming(chunk)) {
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

    for (Operation *op : chunkOps[chunk]) {
      FailureOr<Operation *> clone = cloneForMicrobatch(op, microbatch);
      if (failed(clone))
        return failure();
      for (auto [result, cloned] : llvm::zip(op->getResults(), (*clone)->getResults()))
        values[{result, microbatch}] = cloned;
    }

    // Send what later stages need; an edge's previous send finishes first.
    for (Operation *op : chunkOps[chunk])
      for (Value result : op->getResults())
        for (int64_t receiver = 0; receiver < stages; ++receiver) {
          auto edge = edges.find({result, receiver});
          if (edge == edges.end())
            continue;
          auto peer = builder.getI64IntegerAttr(receiver);
          auto previous = inFlight.find(edge->second);
          if (previous != inFlight.end()) {
            auto wait = SendWaitOp::create(builder, result.getLoc(), previous->second.first,
                                           peer, builder.getI64IntegerAttr(previous->second.second));
            mark(wait);
          }
          Value sent = values.lookup({result, microbatch});
          int64_t tag = tagOf(edge->second, microbatch);
          auto send = SendOp::create(builder, result.getLoc(), sent, peer,
                                     builder.getI64IntegerAttr(tag));
          mark(send);
          inFlight[edge->second] = {sent, tag};
        }
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
    SmallVector<Value> pieces;
    for (int64_t m = 0; m < microbatches; ++m)
      pieces.push_back(lookup(value, m));
    auto layout = main.getResultAttrOfType<ShardingAttr>(output, kMicrobatchLayoutAttr);
    Type type = outputTypes[position];
    if (microbatches == 1 || !layout || layout.isReplicated()) {
      results.push_back(pieces.back());
    } else if (layout.isSplit()) {
      results.push_back(ConcatOp::create(builder, value.getLoc(), type, pieces,
                                         builder.getI64IntegerAttr(layout.getDim())));
    } else {
      Value sum = pieces.front();
      for (Value piece : ArrayRef(pieces).drop_front())
        sum = AddOp::create(builder, value.getLoc(), type, sum, piece);
      results.push_back(sum);
    }
  }
  func::ReturnOp::create(builder, main.getLoc(), results);
  return function;
}

struct BuildPipelinePass
    : mlir::parc::impl::BuildPipelinePassBase<BuildPipelinePass> {
  using BuildPipelinePassBase::BuildPipelinePassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    if (failed(build(module, main)))
      signalPassFailure();
  }

  LogicalResult build(ModuleOp module, func::FuncOp main) {
    auto microbatchAttr = main->getAttrOfType<IntegerAttr>(kMicrobatchesAttr);
    int64_t microbatches = microbatchAttr ? microbatchAttr.getInt() : 1;
    if (stages < 1 || virtualStages < 1)
      return main.emitError("--pp and --virtual-stages must be positive");
    PipelineScheduleKind kind;
    if (schedule == "gpipe")
      kind = PipelineScheduleKind::GPipe;
    else if (schedule == "1f1b")
      kind = PipelineScheduleKind::OneFOneB;
    else
      return main.emitError("--schedule=") << schedule.getValue() << ": expected gpipe or 1f1b";
    if (virtualStages > 1) {
      if (kind != PipelineScheduleKind::OneFOneB)
        return main.emitError("--virtual-stages=")
               << virtualStages.getValue() << " needs --schedule=1f1b (interleaved 1F1B)";
      if (microbatches % stages != 0)
        return main.emitError("--virtual-stages=")
               << virtualStages.getValue() << " needs --microbatches to be a multiple of --pp="
               << stages.getValue() << " (got " << microbatches << ")";
      kind = PipelineScheduleKind::Interleaved;
    }
    int64_t chunks = stages * virtualStages;
    double chunkMemoryLimit = double(memoryLimit) / virtualStages;
    FailureOr<StagePartition> partition = partitionStages(main, chunks, chunkMemoryLimit);
    if (failed(partition))
      return failure();
    auto wholeTypeAttr = main->getAttrOfType<TypeAttr>(kWholeBatchTypeAttr);
    FunctionType wholeType = wholeTypeAttr ? cast<FunctionType>(wholeTypeAttr.getValue())
                                           : main.getFunctionType();
    std::vector<std::vector<PipelineStep>> order =
        buildPipelineSchedule(kind, stages, microbatches, virtualStages, false);

    PipelineBuilder builder(main, *partition, stages, microbatches);
    for (int64_t stage = 0; stage < stages; ++stage)
      if (failed(builder.buildStage(stage, order[stage], wholeType)))
        return failure();

    recordPlan(module, *partition, order, microbatches);
    main.eraseBody();
    main.setFunctionType(wholeType);
    main.setPrivate();
    return success();
  }

  /// Records the plan on the module for --report: per chunk, its modelled time, ops,
  /// weights and incoming bytes; and what the schedule simulation predicts.
  void recordPlan(ModuleOp module, const StagePartition &partition,
                  const std::vector<std::vector<PipelineStep>> &order,
                  int64_t microbatches) {
    Builder b(module.getContext());
    double transfer = *std::max_element(partition.incomingBytes.begin(),
                                        partition.incomingBytes.end()) /
                      kLinkBytesPerSecond;
    PipelineSimulation simulation = simulatePipeline(
        order, partition.stageSeconds,
        std::vector<double>(partition.stageSeconds.size(), 0.0), transfer);
    SmallVector<NamedAttribute> plan = {
        b.getNamedAttr("stages", b.getI64IntegerAttr(stages)),
        b.getNamedAttr("virtual_stages", b.getI64IntegerAttr(virtualStages)),
        b.getNamedAttr("microbatches", b.getI64IntegerAttr(microbatches)),
        b.getNamedAttr("schedule", b.getStringAttr(schedule)),
        b.getNamedAttr("chunk_seconds", b.getF64ArrayAttr(partition.stageSeconds)),
        b.getNamedAttr("chunk_ops", b.getDenseI64ArrayAttr(partition.opCount)),
        b.getNamedAttr("chunk_weight_bytes", b.getF64ArrayAttr(partition.weightBytes)),
        b.getNamedAttr("chunk_incoming_bytes", b.getF64ArrayAttr(partition.incomingBytes)),
        b.getNamedAttr("imbalance", b.getF64FloatAttr(partition.imbalance)),
        b.getNamedAttr("step_seconds", b.getF64FloatAttr(simulation.stepSeconds)),
        b.getNamedAttr("bubble_fraction", b.getF64FloatAttr(simulation.bubbleFraction))};
    module->setAttr(kPipelinePlanAttr, b.getDictionaryAttr(plan));
    // The mesh gains its pipeline axis.
    SmallVector<NamedAttribute> mesh;
    if (auto old = module->getAttrOfType<DictionaryAttr>(kMeshAttr))
      mesh.assign(old.begin(), old.end());
    NamedAttrList list(mesh);
    if (!list.get("dp"))
      list.set("dp", b.getI64IntegerAttr(1));
    if (!list.get("tp"))
      list.set("tp", b.getI64IntegerAttr(1));
    list.set("pp", b.getI64IntegerAttr(stages));
    module->setAttr(kMeshAttr, list.getDictionary(module.getContext()));
  }
};

} // namespace
