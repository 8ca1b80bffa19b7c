//===- PipelineBuilder.cpp - where each op of @main runs ------------------===//
//
// Sorts @main's ops into free, forward, backward and once-per-step ones, gives each forward
// and backward op its chunk from the stage partition, numbers the values that cross stages
// and decides which stages run each per-step op (PipelineBuilder.h).
//
//===----------------------------------------------------------------------===//

#include "Pipeline/PipelineBuilder.h"

using namespace mlir;
using namespace mlir::parc;
using namespace mlir::parc::pipeline;

/// Microbatch `microbatch`'s rows of `whole` along `dim`: a slice of type `local`.
SliceOp mlir::parc::pipeline::sliceMicrobatch(OpBuilder &builder, Location loc, Value whole,
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

bool mlir::parc::pipeline::isMicrobatchSum(Operation *op) {
  auto reduce = dyn_cast<AllReduceOp>(op);
  return reduce && reduce.getGroup() == "microbatch";
}

/// `piece` (microbatch `microbatch`'s rows along `dim`) in a tensor of type `whole` that is
/// zero in every other microbatch's rows.
Operation *mlir::parc::pipeline::padMicrobatch(OpBuilder &builder, Location loc, Value piece, RankedTensorType whole,
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

int64_t PipelineBuilder::homeOfOutput(unsigned index) {
  Value value = main.front().getTerminator()->getOperand(index);
  Operation *def = value.getDefiningOp();
  if (def && isPerStep(def))
    return perStepHome.lookup(def);
  int64_t producer = producerChunk(value);
  return producer >= 0 ? rankOf(producer) : stages - 1;
}
