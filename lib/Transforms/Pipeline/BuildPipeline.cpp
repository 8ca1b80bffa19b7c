//===- BuildPipeline.cpp - per-stage programs with their schedule ---------===//
//
// Cuts @main (one microbatch's program) into pipeline chunks and writes, for every pipeline
// stage, one function that runs its chunks for every microbatch in the order the schedule
// fixes, with the transfers between stages; see the pass description.
//
//===----------------------------------------------------------------------===//

#include "Training/Recompute.h"
#include "Pipeline/TransferCheck.h"

#include "parc/Analysis/PipelineSchedule.h"
#include "parc/Analysis/StagePartitioner.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

#include "mlir/IR/SymbolTable.h"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>

namespace mlir::parc {
#define GEN_PASS_DEF_BUILDPIPELINEPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

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

/// Where an op of @main runs in the pipeline.
enum class OpKind {
  /// Weights, literals and what is computed from them alone (a mask, a microbatch's rows
  /// of it): every stage computes these itself instead of receiving them.
  Free,
  /// Part of a chunk's forward pass, run once per microbatch.
  Forward,
  /// Part of a chunk's backward pass (parc-differentiate links it to its forward op).
  Backward,
  /// Run once per step, after every microbatch: the sums over the microbatches
  /// (`all_reduce` over the microbatch axis) and what follows from them (the optimizer).
  PerStep,
  Return,
};

/// A forward or backward pass through one chunk: what a pipeline step runs.
struct Piece {
  int64_t chunk;
  bool forward;
  bool operator<(const Piece &other) const {
    return std::tie(chunk, forward) < std::tie(other.chunk, other.forward);
  }
};

bool isMicrobatchSum(Operation *op) {
  auto reduce = dyn_cast<AllReduceOp>(op);
  return reduce && reduce.getGroup() == "microbatch";
}

/// `piece` (microbatch `microbatch`'s rows along `dim`) in a tensor of type `whole` that is
/// zero in every other microbatch's rows.
Operation *padMicrobatch(OpBuilder &builder, Location loc, Value piece, RankedTensorType whole,
                         int64_t dim, int64_t microbatch, int64_t microbatches) {
  auto pieceType = cast<RankedTensorType>(piece.getType());
  SmallVector<Value> parts;
  auto zeros = [&](int64_t rows) {
    SmallVector<int64_t> shape(pieceType.getShape());
    shape[dim] = rows;
    return ConstantOp::create(builder, loc,
                              RankedTensorType::get(shape, pieceType.getElementType()), 0.0)
        .getResult();
  };
  int64_t rows = pieceType.getDimSize(dim);
  if (microbatch > 0)
    parts.push_back(zeros(microbatch * rows));
  parts.push_back(piece);
  if (microbatch + 1 < microbatches)
    parts.push_back(zeros((microbatches - microbatch - 1) * rows));
  return ConcatOp::create(builder, loc, whole, parts, builder.getI64IntegerAttr(dim));
}

/// Builds the stage functions from @main and its partition into chunks.
class PipelineBuilder {
public:
  PipelineBuilder(func::FuncOp main, int64_t stages, int64_t microbatches)
      : main(main), stages(stages), microbatches(microbatches),
        context(main.getContext()) {}

  /// Sorts @main's ops into free, forward, backward and per-step ones; fails on a program
  /// the pipeline cannot run. `isPartitioned` then says which ops the partition cuts.
  LogicalResult classify();
  /// Free ops are not cut: each runs on the stages that read it, so the partitioner
  /// charges its work to its first forward user (an optimizer's `momentum * beta`, read
  /// by no forward op, is not charged at all).
  bool isPartitioned(Operation *op) const {
    OpKind k = kindOf.lookup(op);
    return k == OpKind::Forward || k == OpKind::Return;
  }
  bool isTraining() const { return training; }
  /// Gives every forward and backward op its chunk, from the partition of the forward pass.
  LogicalResult assignChunks(const StagePartition &partition);
  /// After assignChunks: rewrites @main so that a weight's gradient whose parts come from
  /// different stages (a tied embedding: the first and the last) is summed over the
  /// microbatches on each of those stages and the partial sums are added once per step
  /// (sum_m (a_m + b_m) = sum_m a_m + sum_m b_m), as Megatron all-reduces a tied
  /// embedding's gradient once per step. Otherwise one part would cross stages once per
  /// microbatch and be read only at the end of the other stage's backward passes, which
  /// holds up the sender (a send finishes only once its receiver posted the receive).
  /// Returns whether @main changed (classify and assign the chunks again then).
  bool splitCrossStageSums();
  /// Modelled seconds of each chunk's backward pass (for the schedule simulation).
  std::vector<double> backwardSeconds() const;
  /// Chooses the ops each chunk's backward step recomputes; a stage keeps at most
  /// `budgetBytes` (Auto) over its `inFlight[stage]` microbatches in flight. Fails when
  /// even full recomputation does not fit.
  LogicalResult planRecompute(RecomputePolicy policy, double budgetBytes,
                              ArrayRef<int64_t> inFlight);
  /// What a training step recomputes on each stage, in FLOPs (after buildStage).
  const std::vector<double> &recomputedFlops() const { return recomputedFlopsOf; }
  /// Activation bytes each stage keeps for its backward steps at most: per chunk, what
  /// one microbatch keeps times the microbatches in flight.
  const std::vector<double> &keptActivationBytes() const { return keptBytesOf; }

  /// Builds the function of pipeline stage `stage`, running `steps` in order.
  FailureOr<func::FuncOp> buildStage(int64_t stage, ArrayRef<PipelineStep> steps,
                                     FunctionType wholeType);

private:
  bool isFree(Operation *op) const { return kindOf.lookup(op) == OpKind::Free; }
  bool isPerStep(Operation *op) const { return kindOf.lookup(op) == OpKind::PerStep; }
  int64_t rankOf(int64_t chunk) const { return chunk % stages; }
  /// The chunk computing `value` once per microbatch, or -1 (arguments, free and per-step
  /// values).
  int64_t producerChunk(Value value) const {
    Operation *def = value.getDefiningOp();
    return def && chunkOf.count(def) ? chunkOf.lookup(def) : -1;
  }
  /// The chunk a free forward op belongs to: that of its first forward user.
  int64_t chunkOfFree(Operation *op);
  void numberEdges();
  /// Which stages run each per-step op, and which stage returns each output.
  void placePerStepOps();
  /// The values piece `piece` reads that another stage computes, in order of first use.
  SmallVector<Value> collectIncoming(Piece piece) const;
  const std::vector<Operation *> &opsOf(Piece piece) const {
    return piece.forward ? forwardOps[piece.chunk] : backwardOps[piece.chunk];
  }
  /// The stage that returns output `index` of @main.
  int64_t homeOfOutput(unsigned index);
  /// The stages that run per-step op `op` (none when no stage needs it).
  const std::set<int64_t> &stagesOf(Operation *op) const {
    static const std::set<int64_t> none;
    auto found = perStepStages.find(op);
    return found != perStepStages.end() ? found->second : none;
  }

  func::FuncOp main;
  int64_t stages, microbatches, chunks = 0;
  MLIRContext *context;
  bool training = false;
  llvm::DenseMap<Operation *, OpKind> kindOf;
  llvm::DenseMap<Operation *, int64_t> chunkOf;
  /// The chunk of each free op a backward op refers to (chunkOfFree).
  llvm::DenseMap<Operation *, int64_t> freeChunks;
  std::vector<std::vector<Operation *>> forwardOps, backwardOps;
  std::map<Piece, SmallVector<Value>> incomingValues;
  /// Every (value, receiving stage) pair, numbered: the transfer of microbatch m has tag
  /// number * microbatches + m (per-step transfers use m = 0).
  llvm::MapVector<std::pair<Value, int64_t>, int64_t> edges;
  /// The stages that run each per-step op; the stage whose microbatch sum a per-step value
  /// derives from (where an output of it is returned).
  llvm::DenseMap<Operation *, std::set<int64_t>> perStepStages;
  llvm::DenseMap<Operation *, int64_t> perStepHome;
  /// The forward ops each chunk's backward step computes again, in program order.
  std::vector<std::vector<Operation *>> recomputedOps;
  std::vector<double> recomputedFlopsOf;
  std::vector<double> keptBytesOf;
};

LogicalResult PipelineBuilder::classify() {
  for (Operation &op : main.front()) {
    auto defined = [&](Value operand, OpKind kind) {
      Operation *def = operand.getDefiningOp();
      return def && kindOf.lookup(def) == kind;
    };
    bool onFree = op.getNumOperands() > 0 && llvm::all_of(op.getOperands(), [&](Value v) {
                    return defined(v, OpKind::Free);
                  });
    bool onPerStep =
        llvm::any_of(op.getOperands(), [&](Value v) { return defined(v, OpKind::PerStep); });
    OpKind kind;
    if (isa<func::ReturnOp>(op))
      kind = OpKind::Return;
    else if (isMicrobatchSum(&op) || isa<AssignWeightOp>(op) || onPerStep)
      kind = OpKind::PerStep;
    else if (isa<LoadWeightOp, ConstantOp>(op) || onFree)
      kind = OpKind::Free;
    else if (op.hasAttr(kAdjointOfAttr))
      kind = OpKind::Backward;
    else
      kind = OpKind::Forward;
    kindOf[&op] = kind;
    training |= kind == OpKind::PerStep;
    // A per-step op reads microbatch values only through their sum.
    if (kind == OpKind::PerStep && !isMicrobatchSum(&op))
      for (Value operand : op.getOperands())
        if (defined(operand, OpKind::Forward) || defined(operand, OpKind::Backward) ||
            isa<BlockArgument>(operand))
          return op.emitError("runs once per training step but reads a value of one "
                              "microbatch (sum it over the microbatch axis first)");
  }
  return success();
}

int64_t PipelineBuilder::chunkOfFree(Operation *op) {
  auto known = freeChunks.find(op);
  if (known != freeChunks.end())
    return known->second;
  int64_t chunk = chunks - 1;
  for (Operation *user : op->getUsers()) {
    OpKind kind = kindOf.lookup(user);
    if (kind == OpKind::Forward)
      chunk = std::min(chunk, chunkOf.lookup(user));
    else if (kind == OpKind::Free)
      chunk = std::min(chunk, chunkOfFree(user));
  }
  // Remembered apart: a free op is no chunk's work (producerChunk must not see it).
  freeChunks[op] = chunk;
  return chunk;
}
LogicalResult PipelineBuilder::assignChunks(const StagePartition &partition) {
  chunks = static_cast<int64_t>(partition.stageSeconds.size());
  forwardOps.assign(chunks, {});
  backwardOps.assign(chunks, {});
  llvm::DenseMap<int64_t, Operation *> forwardOfId;
  for (auto [op, chunk] : llvm::zip(main.front(), partition.stageOfOp)) {
    if (kindOf.lookup(&op) == OpKind::Forward) {
      chunkOf[&op] = chunk;
      forwardOps[chunk].push_back(&op);
    }
    if (auto id = op.getAttrOfType<IntegerAttr>(kOpIdAttr))
      forwardOfId[id.getInt()] = &op;
  }
  for (Operation &op : main.front()) {
    if (kindOf.lookup(&op) != OpKind::Backward)
      continue;
    int64_t id = op.getAttrOfType<IntegerAttr>(kAdjointOfAttr).getInt();
    Operation *forward = forwardOfId.lookup(id);
    if (!forward || kindOf.lookup(forward) == OpKind::Backward ||
        kindOf.lookup(forward) == OpKind::PerStep)
      return op.emitError("backward op without its forward op (parc.adjoint_of = ")
             << id << ")";
    int64_t chunk = kindOf.lookup(forward) == OpKind::Forward ? chunkOf.lookup(forward)
                                                              : chunkOfFree(forward);
    chunkOf[&op] = chunk;
    backwardOps[chunk].push_back(&op);
  }
  numberEdges();
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    for (bool forward : {true, false})
      incomingValues[{chunk, forward}] = collectIncoming({chunk, forward});
  placePerStepOps();
  return success();
}

bool PipelineBuilder::splitCrossStageSums() {
  // The stage computing `value` per microbatch, or -1.
  auto stageOf = [&](Value value) {
    int64_t chunk = producerChunk(value);
    return chunk >= 0 ? rankOf(chunk) : -1;
  };
  SmallVector<AllReduceOp> worklist;
  for (Operation &op : main.front())
    if (isMicrobatchSum(&op))
      worklist.push_back(cast<AllReduceOp>(op));
  bool changed = false;
  while (!worklist.empty()) {
    AllReduceOp sumOp = worklist.pop_back_val();
    auto add = sumOp.getOperand().getDefiningOp<AddOp>();
    if (!add || !add->hasOneUse() || add.getLhs().getType() != add.getType() ||
        add.getRhs().getType() != add.getType())
      continue;
    int64_t lhsStage = stageOf(add.getLhs()), rhsStage = stageOf(add.getRhs());
    if (lhsStage < 0 || rhsStage < 0 || lhsStage == rhsStage)
      continue;
    OpBuilder builder(sumOp);
    auto partial = [&](Value part) {
      return AllReduceOp::create(builder, sumOp.getLoc(), part.getType(), part,
                                 sumOp.getGroupAttr());
    };
    AllReduceOp lhsSum = partial(add.getLhs()), rhsSum = partial(add.getRhs());
    Value total = AddOp::create(builder, add.getLoc(), add.getType(), lhsSum, rhsSum);
    sumOp.getResult().replaceAllUsesWith(total);
    sumOp.erase();
    add.erase();
    // A part may itself add up parts of several stages (a weight used three times).
    worklist.push_back(lhsSum);
    worklist.push_back(rhsSum);
    changed = true;
  }
  return changed;
}

std::vector<double> PipelineBuilder::backwardSeconds() const {
  std::vector<double> seconds(chunks, 0.0);
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    for (Operation *op : backwardOps[chunk])
      seconds[chunk] += modelledSeconds(op);
  return seconds;
}

void PipelineBuilder::numberEdges() {
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    for (bool forward : {true, false})
      for (Operation *op : opsOf({chunk, forward}))
        for (Value result : op->getResults()) {
          std::set<int64_t> receivers;
          for (Operation *user : result.getUsers()) {
            OpKind kind = kindOf.lookup(user);
            if ((kind == OpKind::Forward || kind == OpKind::Backward) &&
                rankOf(chunkOf.lookup(user)) != rankOf(chunk))
              receivers.insert(rankOf(chunkOf.lookup(user)));
          }
          for (int64_t receiver : receivers)
            edges.insert({{result, receiver}, static_cast<int64_t>(edges.size())});
        }
}

SmallVector<Value> PipelineBuilder::collectIncoming(Piece piece) const {
  SmallVector<Value> values;
  llvm::DenseSet<Value> seen;
  for (Operation *op : opsOf(piece))
    for (Value operand : op->getOperands()) {
      int64_t producer = producerChunk(operand);
      if (producer >= 0 && rankOf(producer) != rankOf(piece.chunk) &&
          seen.insert(operand).second)
        values.push_back(operand);
    }
  return values;
}

void PipelineBuilder::placePerStepOps() {
  // The weights each stage's microbatch passes read (through free ops).
  llvm::StringMap<std::set<int64_t>> owners;
  std::function<void(Operation *, int64_t, llvm::DenseSet<Operation *> &)> markWeights =
      [&](Operation *op, int64_t rank, llvm::DenseSet<Operation *> &seen) {
        if (!seen.insert(op).second)
          return;
        if (auto load = dyn_cast<LoadWeightOp>(op))
          owners[load.getName()].insert(rank);
        for (Value operand : op->getOperands())
          if (Operation *def = operand.getDefiningOp(); def && isFree(def))
            markWeights(def, rank, seen);
      };
  for (auto &[op, chunk] : chunkOf) {
    llvm::DenseSet<Operation *> seen;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp(); def && isFree(def))
        markWeights(def, rankOf(chunk), seen);
  }
  std::set<int64_t> everyStage;
  for (int64_t s = 0; s < stages; ++s)
    everyStage.insert(s);

  SmallVector<Operation *> perStep;
  for (Operation &op : main.front())
    if (isPerStep(&op))
      perStep.push_back(&op);
  // Home: where the microbatch sum a value derives from is computed.
  for (Operation *op : perStep) {
    int64_t home = stages - 1;
    if (isMicrobatchSum(op)) {
      int64_t producer = producerChunk(op->getOperand(0));
      home = producer >= 0 ? rankOf(producer) : stages - 1;
    } else {
      for (Value operand : op->getOperands())
        if (Operation *def = operand.getDefiningOp(); def && isPerStep(def)) {
          home = perStepHome.lookup(def);
          break;
        }
    }
    perStepHome[op] = home;
  }
  // Stages: an update runs on every stage holding the weight (a tied embedding's on the
  // first and the last); what it needs runs there too; a sum is also made at its home.
  for (Operation *op : llvm::reverse(perStep)) {
    std::set<int64_t> &where = perStepStages[op];
    if (auto assign = dyn_cast<AssignWeightOp>(op)) {
      StringRef name = assign.getName();
      if (auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(op, assign.getNameAttr()))
        if (auto owner = weight->getAttrOfType<StringAttr>(kStateOfAttr))
          name = owner.getValue();
      auto held = owners.find(name);
      where = held != owners.end() ? held->second : everyStage;
    }
    for (Operation *user : op->getUsers()) {
      if (isa<func::ReturnOp>(user))
        where.insert(perStepHome.lookup(op));
      else if (isPerStep(user))
        where.insert(perStepStages[user].begin(), perStepStages[user].end());
    }
    if (isMicrobatchSum(op) && !where.empty())
      where.insert(perStepHome.lookup(op));
  }
  // The sums sent from their home to the other stages that need them.
  for (Operation *op : perStep)
    if (isMicrobatchSum(op))
      for (int64_t receiver : perStepStages[op])
        if (receiver != perStepHome.lookup(op))
          edges.insert({{op->getResult(0), receiver}, static_cast<int64_t>(edges.size())});
}

LogicalResult PipelineBuilder::planRecompute(RecomputePolicy policy, double budgetBytes,
                                             ArrayRef<int64_t> inFlight) {
  recomputedOps.assign(chunks, {});
  recomputedFlopsOf.assign(stages, 0.0);
  keptBytesOf.assign(stages, 0.0);
  if (!training)
    return success();
  // A backward op on this stage reads `value` (other stages received their copy).
  auto readByBackwardOn = [&](Operation *user, int64_t rank) {
    return kindOf.lookup(user) == OpKind::Backward && rankOf(chunkOf.lookup(user)) == rank;
  };
  auto free = [&](Value value) {
    Operation *def = value.getDefiningOp();
    return !def || isFree(def);
  };
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    int64_t rank = rankOf(chunk);
    auto usedByBackward = [&](Value value) {
      return llvm::any_of(value.getUsers(),
                          [&](Operation *user) { return readByBackwardOn(user, rank); });
    };
    ChunkActivations activations{forwardOps[chunk], usedByBackward, free};
    // inFlight counts chunk passes: each of a stage's chunks keeps its share per pass.
    int64_t passes = std::max<int64_t>(1, inFlight[rank]);
    RecomputeChoice choice = chooseRecomputed(activations, policy, budgetBytes / double(passes));
    if (!choice.fits)
      return main.emitError("--memory-budget=")
             << int64_t(budgetBytes) << ": even full recomputation keeps about "
             << int64_t(choice.keptBytes * passes) << " bytes of activations on stage "
             << rank;
    // The modelled activation memory: what each microbatch in flight keeps.
    keptBytesOf[rank] += choice.keptBytes * inFlight[rank] / double(chunks / stages);
    const llvm::DenseSet<Operation *> &chosen = choice.ops;
    // Only what the backward step reads, directly or through other recomputed ops.
    llvm::DenseSet<Operation *> needed;
    for (Operation *op : llvm::reverse(forwardOps[chunk])) {
      if (!chosen.contains(op))
        continue;
      bool read = llvm::any_of(op->getUsers(), [&](Operation *user) {
        return readByBackwardOn(user, rank) || needed.contains(user);
      });
      if (read)
        needed.insert(op);
    }
    for (Operation *op : forwardOps[chunk])
      if (needed.contains(op))
        recomputedOps[chunk].push_back(op);
  }
  return success();
}

int64_t PipelineBuilder::homeOfOutput(unsigned index) {
  Value value = main.front().getTerminator()->getOperand(index);
  Operation *def = value.getDefiningOp();
  if (def && isPerStep(def))
    return perStepHome.lookup(def);
  int64_t producer = producerChunk(value);
  return producer >= 0 ? rankOf(producer) : stages - 1;
}

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
  function->setAttr("parc.stage", builder.getI64IntegerAttr(stage));
  function->setAttr("parc.outputs", builder.getDenseI64ArrayAttr(outputs));
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
    stepAttrs.set("parc.chunk", builder.getI64IntegerAttr(piece.chunk));
    stepAttrs.set("parc.microbatch", builder.getI64IntegerAttr(microbatch));
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
        recomputedFlopsOf[stage] += opFlops(*clone);
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
    auto builderPtr = std::make_unique<PipelineBuilder>(main, stages, microbatches);
    if (failed(builderPtr->classify()))
      return failure();
    // A training step's forward pass is cut; its backward ops follow their forward ops.
    double chunkMemoryLimit = double(memoryLimit) / virtualStages;
    FailureOr<StagePartition> partition =
        partitionStages(main, chunks, chunkMemoryLimit,
                        [&](Operation *op) { return builderPtr->isPartitioned(op); });
    if (failed(partition) || failed(builderPtr->assignChunks(*partition)))
      return failure();
    // The ops the partition cut (forward ops) by op: the split only changes other ops.
    llvm::DenseMap<Operation *, int64_t> chunkOfOp;
    for (auto [op, chunk] : llvm::zip(main.front(), partition->stageOfOp))
      if (chunk >= 0)
        chunkOfOp[&op] = chunk;
    if (builderPtr->splitCrossStageSums()) {
      partition->stageOfOp.clear();
      for (Operation &op : main.front())
        partition->stageOfOp.push_back(chunkOfOp.lookup_or(&op, -1));
      builderPtr = std::make_unique<PipelineBuilder>(main, stages, microbatches);
      if (failed(builderPtr->classify()) || failed(builderPtr->assignChunks(*partition)))
        return failure();
    }
    PipelineBuilder &builder = *builderPtr;
    auto wholeTypeAttr = main->getAttrOfType<TypeAttr>(kWholeBatchTypeAttr);
    FunctionType wholeType = wholeTypeAttr ? cast<FunctionType>(wholeTypeAttr.getValue())
                                           : main.getFunctionType();
    std::vector<std::vector<PipelineStep>> order = buildPipelineSchedule(
        kind, stages, microbatches, virtualStages, builder.isTraining());

    std::optional<RecomputePolicy> policy = parseRecomputePolicy(recompute);
    if (!policy)
      return main.emitError("--recompute=")
             << recompute.getValue() << ": expected none, full, selective or auto";
    if (*policy != RecomputePolicy::None && !builder.isTraining())
      return main.emitError("--recompute=") << recompute.getValue() << " needs --train";
    if (*policy == RecomputePolicy::Auto && memoryBudget <= 0)
      return main.emitError("--recompute=auto needs --memory-budget");
    // Microbatches whose forward ran and backward has not, at most, on each stage.
    SmallVector<int64_t> inFlight;
    for (const std::vector<PipelineStep> &steps : order) {
      int64_t alive = 0, most = 0;
      for (const PipelineStep &step : steps) {
        alive += step.forward ? 1 : -1;
        most = std::max(most, alive);
      }
      inFlight.push_back(most);
    }
    if (failed(builder.planRecompute(*policy, double(memoryBudget), inFlight)))
      return failure();
    SmallVector<func::FuncOp> stageFunctions;
    for (int64_t stage = 0; stage < stages; ++stage) {
      FailureOr<func::FuncOp> built = builder.buildStage(stage, order[stage], wholeType);
      if (failed(built))
        return failure();
      stageFunctions.push_back(*built);
    }
    if (failed(checkTransfersFinish(stageFunctions)))
      return failure();

    std::vector<double> backward = builder.backwardSeconds();
    recordPlan(module, *partition, backward, builder.recomputedFlops(),
               builder.keptActivationBytes(), order, microbatches);
    main.eraseBody();
    main.setFunctionType(wholeType);
    main.setPrivate();
    return success();
  }

  /// Records the plan on the module for --report: per chunk, its modelled time, ops,
  /// weights and incoming bytes; and what the schedule simulation predicts.
  void recordPlan(ModuleOp module, const StagePartition &partition,
                  const std::vector<double> &backwardSeconds,
                  const std::vector<double> &recomputedFlops,
                  const std::vector<double> &keptBytes,
                  const std::vector<std::vector<PipelineStep>> &order,
                  int64_t microbatches) {
    Builder b(module.getContext());
    double transfer = modelledTransferSeconds(
        *std::max_element(partition.incomingBytes.begin(), partition.incomingBytes.end()));
    PipelineSimulation simulation =
        simulatePipeline(order, partition.stageSeconds, backwardSeconds, transfer);
    SmallVector<NamedAttribute> plan = {
        b.getNamedAttr("stages", b.getI64IntegerAttr(stages)),
        b.getNamedAttr("virtual_stages", b.getI64IntegerAttr(virtualStages)),
        b.getNamedAttr("microbatches", b.getI64IntegerAttr(microbatches)),
        b.getNamedAttr("schedule", b.getStringAttr(schedule)),
        b.getNamedAttr("chunk_seconds", b.getF64ArrayAttr(partition.stageSeconds)),
        b.getNamedAttr("chunk_backward_seconds", b.getF64ArrayAttr(backwardSeconds)),
        b.getNamedAttr("chunk_ops", b.getDenseI64ArrayAttr(partition.opCount)),
        b.getNamedAttr("chunk_weight_bytes", b.getF64ArrayAttr(partition.weightBytes)),
        b.getNamedAttr("chunk_incoming_bytes", b.getF64ArrayAttr(partition.incomingBytes)),
        b.getNamedAttr("imbalance", b.getF64FloatAttr(partition.imbalance)),
        b.getNamedAttr("step_seconds", b.getF64FloatAttr(simulation.stepSeconds)),
        b.getNamedAttr("bubble_fraction", b.getF64FloatAttr(simulation.bubbleFraction)),
        b.getNamedAttr("recompute", b.getStringAttr(recompute)),
        b.getNamedAttr("recomputed_flops", b.getF64ArrayAttr(recomputedFlops)),
        b.getNamedAttr("kept_activation_bytes", b.getF64ArrayAttr(keptBytes))};
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
