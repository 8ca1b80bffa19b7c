//===- ParallelSearch.cpp - choosing the whole layout for N devices -------===//

#include "parc/Analysis/ParallelSearch.h"

#include "parc/Analysis/CostFormulas.h"
#include "parc/Analysis/CostModel.h"
#include "parc/Analysis/StagePartitioner.h"
#include "parc/Analysis/TensorParallelPlanner.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

using namespace mlir;
using namespace mlir::parc;

std::string LayoutCandidate::describe() const {
  return llvm::formatv("tp={0} pp={1} dp={2} microbatches={3} schedule={4}{5} recompute={6} "
                       "zero={7}",
                       tp, pp, dp, microbatches, schedule,
                       virtualStages > 1 ? " virtual_stages=" + std::to_string(virtualStages)
                                         : std::string(),
                       recompute, zero)
      .str();
}

namespace {

/// The fewest ops with work a pipeline chunk holds.
constexpr int64_t kMinOpsPerChunk = 4;
/// The share of a device's memory a plan may use: the rest goes to the runtime's context,
/// communication buffers and allocator fragmentation.
constexpr double kUsableMemoryFraction = 0.9;

double bytesOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type ? double(getStorageBytes(type)) : 0;
}

/// One op of the forward graph, counted once at the graph's (global) batch.
struct OpWork {
  Operation *op = nullptr;
  double flops = 0;
  /// Bytes of activations read and written, and of weights read.
  double activationBytes = 0, weightBytes = 0;
  /// Bytes of its results: what the backward pass may keep.
  double resultBytes = 0;
  /// Whether its work grows with the batch (it depends on a graph input).
  bool batchDependent = false;
  /// Whether it computes attention scores (selective recomputation redoes it).
  bool score = false;
  /// Whether it costs nothing (weights, literals, reshapes, the return).
  bool free = true;
  /// For an op of the training step's loss and backward pass: the forward op it belongs
  /// to (it runs in that op's stage, on that op's tensor-parallel share).
  size_t forwardOp = 0;
};

enum class CollectiveKind { AllReduce, AllGather, ReduceScatter };

/// What tensor parallelism over `ranks` makes of the graph: the share of each op's work
/// a rank does, and the collectives between ops (at the graph's batch).
struct TensorParallelShape {
  std::vector<double> workShare, weightShare;
  struct Collective {
    size_t op;
    CollectiveKind kind;
    double bytes;
    bool batchDependent;
    /// What laying out its buffer copies (collectiveRelayoutBytes).
    double relayoutBytes;
  };
  std::vector<Collective> collectives;
  /// Per op: the bytes per rank of the weights it loads (load_weight ops only).
  std::vector<double> loadedBytesPerRank, loadedParametersPerRank;
};

/// Per stage, for one microbatch: what its forward pass costs and keeps.
struct StageTable {
  /// The forward pass; the backward pass's compute (from the training step, when the
  /// search has one).
  std::vector<double> compute, backwardCompute, communication, scoreCompute;
  std::vector<double> keptAll, keptWithoutScores, workspace, incoming;
  std::vector<double> parameters; // per rank
};

class Searcher {
public:
  Searcher(func::FuncOp function, const MachineProfile &machine, const SearchRequest &request)
      : function(function), machine(machine), request(request) {}

  llvm::Expected<SearchResult> run();

private:
  void countOps();
  void countBackwardOps();
  /// Counts `op` into `list` (indexed by `index`): its work, whether it depends on
  /// `batchValues` (then its results do too) and what fusion saves it and its producer.
  OpWork &count(Operation &op, std::vector<OpWork> &list,
                llvm::DenseMap<Operation *, size_t> &index, llvm::DenseSet<Value> &batchValues);
  const TensorParallelShape &tensorParallel(int64_t ranks);
  const StagePartition *partition(int64_t chunks);
  const StageTable &table(int64_t tp, int64_t chunks, int64_t microbatchSize);
  LayoutCandidate evaluate(LayoutCandidate layout);
  double seconds(double flops, double bytes) const;
  /// One op's time on one device as the stage partitioner weighs it.
  double partitionSeconds(const OpWork &work) const;
  double collectiveSeconds(CollectiveKind kind, double bytes, int64_t ranks,
                           int64_t span) const;

  func::FuncOp function;
  const MachineProfile &machine;
  /// The machine's device as each of the request's busy devices sees it.
  DeviceProfile device;
  const SearchRequest &request;
  std::string peakKey;
  double elementBytes = 4;
  int64_t globalBatch = 1;
  std::vector<OpWork> ops;
  llvm::DenseMap<Operation *, size_t> indexOf;
  /// The loss and backward pass of request.trainingStep, when there is one; otherwise a
  /// backward pass is priced at twice its forward's work.
  std::vector<OpWork> backwardOps;
  llvm::DenseMap<Operation *, size_t> backwardIndexOf;
  int64_t opsWithWork = 0;
  double forwardFlops = 0, scoreFlops = 0;
  /// The forward pass's time on one device, and that of its slowest op (as the stage
  /// partitioner weighs them): how finely interleaving may cut the graph.
  double forwardSeconds = 0, heaviestOpSeconds = 0;
  /// Bytes of the graph's results that depend on the batch: what data parallelism gathers
  /// from its replicas after an inference run.
  double batchOutputBytes = 0;
  std::map<int64_t, TensorParallelShape> shapes;
  std::vector<std::pair<int64_t, llvm::StringMap<ShardingAttr>>> plannedWeights;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int, std::string>,
           PipelineSimulation>
      simulations;
  std::map<int64_t, std::optional<StagePartition>> partitions;
  std::map<std::tuple<int64_t, int64_t, int64_t>, StageTable> tables;
};

double Searcher::seconds(double flops, double bytes) const {
  return kernelSeconds(flops, bytes, peakKey, device);
}

double Searcher::partitionSeconds(const OpWork &work) const {
  return seconds(work.flops, (work.activationBytes + work.weightBytes) * elementBytes / 4);
}

/// A collective among `ranks` devices spread over `span` consecutive ones (a data-parallel
/// group strides over the tensor-parallel ranks): inside a node when the span fits.
double Searcher::collectiveSeconds(CollectiveKind kind, double bytes, int64_t ranks,
                                   int64_t span) const {
  const LinkProfile &link = machine.linkFor(span);
  return kind == CollectiveKind::AllReduce ? ringAllReduceSeconds(bytes, ranks, link)
                                           : ringAllGatherSeconds(bytes, ranks, link);
}

OpWork &Searcher::count(Operation &op, std::vector<OpWork> &list,
                       llvm::DenseMap<Operation *, size_t> &index,
                       llvm::DenseSet<Value> &batchValues) {
  OpWork &work = list.emplace_back();
  work.op = &op;
  index[&op] = list.size() - 1;
  work.batchDependent =
      llvm::any_of(op.getOperands(), [&](Value v) { return batchValues.contains(v); });
  if (work.batchDependent)
    for (Value result : op.getResults())
      batchValues.insert(result);
  work.free = op.getNumResults() != 1 || isa<LoadWeightOp, ConstantOp, ReshapeOp>(op) ||
              !isa<ParcDialect>(op.getDialect()) ||
              (device.gemmTransposesOperands && isGemmOperandTranspose(&op));
  if (work.free)
    return work;
  OpCost cost = getOpCost(&op);
  work.flops = cost.flops;
  for (Value operand : op.getOperands())
    if (operand.getDefiningOp<LoadWeightOp>())
      work.weightBytes += bytesOf(operand);
  work.activationBytes = std::max(0.0, cost.bytesRead + cost.bytesWritten - work.weightBytes);
  work.resultBytes = work.batchDependent ? bytesOf(op.getResult(0)) : 0;
  work.score = isAttentionScoreOp(&op);
  // Fused as parc's fusion pass fuses (elementwise chains, GEMM epilogues): an elementwise
  // op reading the only use of the result of a preceding op with work takes it in
  // registers, so neither writes nor reads it through memory.
  if (op.hasTrait<ElementwiseKernel>())
    for (Value operand : op.getOperands()) {
      Operation *def = operand.getDefiningOp();
      auto producer = def ? index.find(def) : index.end();
      if (producer == index.end() || list[producer->second].free || !operand.hasOneUse())
        continue;
      OpWork &from = list[producer->second];
      double bytes = bytesOf(operand);
      from.activationBytes = std::max(0.0, from.activationBytes - bytes);
      work.activationBytes = std::max(0.0, work.activationBytes - bytes);
    }
  if (isStridedTranspose(&op)) {
    work.activationBytes /= machine.device.transposeEfficiency;
    work.weightBytes /= machine.device.transposeEfficiency;
  }
  return work;
}

void Searcher::countOps() {
  llvm::DenseSet<Value> batchValues(function.getArguments().begin(),
                                    function.getArguments().end());
  for (Operation &op : function.front()) {
    OpWork &work = count(op, ops, indexOf, batchValues);
    if (work.free)
      continue;
    opsWithWork += work.flops > 0 || work.activationBytes > 0;
    forwardFlops += work.flops;
    double time = partitionSeconds(work);
    forwardSeconds += time;
    heaviestOpSeconds = std::max(heaviestOpSeconds, time);
    if (work.score)
      scoreFlops += work.flops;
  }
  for (Value result : function.front().getTerminator()->getOperands()) {
    Operation *def = result.getDefiningOp();
    auto producer = def ? indexOf.find(def) : indexOf.end();
    if (producer != indexOf.end() && ops[producer->second].batchDependent)
      batchOutputBytes += bytesOf(result);
  }
  if (request.train && request.trainingStep)
    countBackwardOps();
}

/// The training step's ops that are not copies of forward ones: the loss and the backward
/// pass. A backward op belongs to the forward op parc-differentiate built it for; an op
/// with no link (the loss, what the canonicalizer rebuilt) belongs to the op before it.
void Searcher::countBackwardOps() {
  func::FuncOp step = request.trainingStep;
  llvm::DenseSet<Value> batchValues(step.getArguments().begin(), step.getArguments().end());
  llvm::DenseMap<int64_t, size_t> forwardOfId; // parc.op_id -> forward index
  for (Operation &op : step.front())
    if (auto index = op.getAttrOfType<IntegerAttr>(kForwardIndexAttr))
      if (auto id = op.getAttrOfType<IntegerAttr>(kOpIdAttr))
        forwardOfId[id.getInt()] = index.getInt();
  size_t current = 0;
  for (Operation &op : step.front()) {
    if (auto index = op.getAttrOfType<IntegerAttr>(kForwardIndexAttr)) {
      // A forward op, priced already; its results carry the batch as the forward's do.
      current = std::min<size_t>(index.getInt(), ops.size() - 1);
      if (ops[current].batchDependent ||
          llvm::any_of(op.getOperands(), [&](Value v) { return batchValues.contains(v); }))
        for (Value result : op.getResults())
          batchValues.insert(result);
      continue;
    }
    if (auto id = op.getAttrOfType<IntegerAttr>(kAdjointOfAttr)) {
      auto forward = forwardOfId.find(id.getInt());
      if (forward != forwardOfId.end())
        current = forward->second;
    }
    OpWork &work = count(op, backwardOps, backwardIndexOf, batchValues);
    work.forwardOp = current;
  }
}

const TensorParallelShape &Searcher::tensorParallel(int64_t ranks) {
  auto found = shapes.find(ranks);
  if (found != shapes.end())
    return found->second;
  TensorParallelShape &shape = shapes[ranks];
  shape.workShare.assign(ops.size(), 1);
  shape.weightShare.assign(ops.size(), 1);
  shape.loadedBytesPerRank.assign(ops.size(), 0);
  shape.loadedParametersPerRank.assign(ops.size(), 0);
  TensorParallelPlan plan;
  if (ranks > 1) {
    // The planner the compile flow runs, priced on this machine: a large GEMM's rate and
    // the tensor-parallel group's link.
    TensorParallelCostModel model;
    model.ranks = ranks;
    model.flopsPerSecond = machine.device.peakFlops.at(peakKey) *
                           machine.device.gemmEfficiencyAt(1e15);
    model.bytesPerSecond = machine.linkFor(ranks).effectiveBandwidth();
    // The layouts planned for a multiple of `ranks` divide by `ranks` too, and the
    // planner, whose choice rests on volumes that scale alike, would choose them again:
    // they are re-evaluated rather than searched again (the search runs the largest
    // degree first).
    auto planned = llvm::find_if(plannedWeights, [&](const auto &entry) {
      return entry.first % ranks == 0;
    });
    plan = planned != plannedWeights.end() ? evaluatePlan(function, planned->second, model)
                                           : planTensorParallel(function, model);
    if (planned == plannedWeights.end())
      plannedWeights.push_back({ranks, plan.weights});
  }
  for (auto [i, work] : llvm::enumerate(ops)) {
    if (plan.splitWork.contains(work.op))
      shape.workShare[i] = 1.0 / ranks;
    if (auto load = dyn_cast<LoadWeightOp>(work.op)) {
      ShardingAttr layout = plan.weights.lookup(load.getName());
      double share = layout && layout.isSplit() ? 1.0 / ranks : 1.0;
      shape.loadedBytesPerRank[i] = bytesOf(load.getResult()) * share;
      if (isa<FloatType>(load.getType().getElementType()))
        shape.loadedParametersPerRank[i] = load.getType().getNumElements() * share;
    }
  }
  // An op reading split weights reads its shard of them.
  for (auto [i, work] : llvm::enumerate(ops))
    if (shape.workShare[i] < 1)
      shape.weightShare[i] = 1.0 / ranks;
  for (const PlannedCollective &collective : plan.collectives) {
    CollectiveKind kind = collective.from.isPartial()
                              ? (collective.to.isReplicated() ? CollectiveKind::AllReduce
                                                              : CollectiveKind::ReduceScatter)
                              : CollectiveKind::AllGather;
    size_t op = indexOf.lookup(collective.user);
    Operation *def = collective.value.getDefiningOp();
    bool batchDependent = !def || ops[indexOf.lookup(def)].batchDependent;
    ShardingAttr split = kind == CollectiveKind::AllGather ? collective.from : collective.to;
    auto type = cast<RankedTensorType>(collective.value.getType());
    double relayout = split.isSplit() ? collectiveRelayoutBytes(type, split.getDim()) : 0;
    shape.collectives.push_back(
        {op, kind, bytesOf(collective.value), batchDependent, relayout});
  }
  return shape;
}

const StagePartition *Searcher::partition(int64_t chunks) {
  auto found = partitions.find(chunks);
  if (found != partitions.end())
    return found->second ? &*found->second : nullptr;
  StageCostModel model;
  model.opSeconds = [&](Operation *op) {
    auto it = indexOf.find(op);
    if (it == indexOf.end() || ops[it->second].free)
      return 0.0;
    return partitionSeconds(ops[it->second]);
  };
  model.linkBytesPerSecond = machine.interNode.effectiveBandwidth();
  // The partitioner's diagnostics (too few ops) are not errors here: the layout is skipped.
  ScopedDiagnosticHandler quiet(function.getContext(), [](Diagnostic &) { return success(); });
  FailureOr<StagePartition> cut =
      chunks == 1 ? FailureOr<StagePartition>(StagePartition())
                  : partitionStages(function, chunks, 0, nullptr, true, model);
  auto &slot = partitions[chunks];
  if (succeeded(cut)) {
    slot = std::move(*cut);
    if (chunks == 1) {
      slot->stageOfOp.assign(ops.size(), 0);
      slot->incomingBytes.assign(1, 0);
    }
  }
  return slot ? &*slot : nullptr;
}

const StageTable &Searcher::table(int64_t tp, int64_t chunks, int64_t microbatchSize) {
  auto key = std::make_tuple(tp, chunks, microbatchSize);
  auto found = tables.find(key);
  if (found != tables.end())
    return found->second;
  const TensorParallelShape &shape = tensorParallel(tp);
  const StagePartition &cut = *partition(chunks);
  StageTable &t = tables[key];
  for (auto *column : {&t.compute, &t.backwardCompute, &t.communication, &t.scoreCompute, &t.keptAll,
                       &t.keptWithoutScores, &t.workspace, &t.incoming, &t.parameters})
    column->assign(chunks, 0);
  double share = double(microbatchSize) / globalBatch;
  double narrow = elementBytes / 4; // a 4-byte graph tensor in the compute precision
  for (auto [i, work] : llvm::enumerate(ops)) {
    int64_t stage = std::max<int64_t>(0, cut.stageOfOp[i]);
    t.parameters[stage] += shape.loadedParametersPerRank[i];
    if (work.free)
      continue;
    double scale = (work.batchDependent ? share : 1) * shape.workShare[i];
    double time = seconds(work.flops * scale,
                          (work.activationBytes * scale + work.weightBytes * shape.weightShare[i]) *
                              narrow);
    t.compute[stage] += time;
    double kept = work.resultBytes * scale * narrow;
    t.keptAll[stage] += kept;
    if (work.score)
      t.scoreCompute[stage] += time;
    else
      t.keptWithoutScores[stage] += kept;
    t.workspace[stage] = std::max(t.workspace[stage], work.activationBytes * scale * narrow);
  }
  for (const OpWork &work : backwardOps) {
    if (work.free)
      continue;
    size_t forward = work.forwardOp;
    int64_t stage = std::max<int64_t>(0, cut.stageOfOp[forward]);
    double scale = (work.batchDependent ? share : 1) * shape.workShare[forward];
    t.backwardCompute[stage] +=
        seconds(work.flops * scale,
                (work.activationBytes * scale + work.weightBytes * shape.weightShare[forward]) *
                    narrow);
  }
  for (const auto &collective : shape.collectives) {
    int64_t stage = std::max<int64_t>(0, cut.stageOfOp[collective.op]);
    double scale = (collective.batchDependent ? share : 1) * narrow;
    t.communication[stage] += collectiveSeconds(collective.kind, collective.bytes * scale, tp, tp) +
                              memorySeconds(collective.relayoutBytes * scale, device);
  }
  for (int64_t s = 0; s < chunks; ++s)
    t.incoming[s] = cut.incomingBytes[s] * share * narrow;
  return t;
}

/// The pipeline step of `ranks` ranks with chunk pass times `forward`/`backward` (stage =
/// chunk * ranks + rank): simulated when small, else the closed form of a balanced
/// schedule around the slowest rank (the simulation's answer for even stages).
PipelineSimulation pipelineStep(PipelineScheduleKind kind, int64_t ranks, int64_t microbatches,
                                int64_t virtualStages, bool training,
                                const std::vector<double> &forward,
                                const std::vector<double> &backward, double transfer) {
  if (ranks * microbatches * virtualStages <= 4096)
    return simulatePipeline(
        buildPipelineSchedule(kind, ranks, microbatches, virtualStages, training), forward,
        backward, transfer);
  std::vector<double> perRank(ranks, 0);
  for (size_t stage = 0; stage < forward.size(); ++stage)
    perRank[stage % ranks] += forward[stage] + backward[stage];
  double slowest = *std::max_element(perRank.begin(), perRank.end());
  double busy = 0;
  for (double r : perRank)
    busy += r * microbatches;
  PipelineSimulation result;
  result.stepSeconds = slowest * (microbatches + (ranks - 1.0) / virtualStages) +
                       2 * (ranks - 1) * transfer * (training ? 2 : 1);
  result.bubbleFraction = 1 - busy / (ranks * result.stepSeconds);
  return result;
}

LayoutCandidate Searcher::evaluate(LayoutCandidate c) {
  int64_t chunks = c.pp * c.virtualStages;
  int64_t microbatchSize = globalBatch / (c.dp * c.microbatches);
  const StageTable &t = table(c.tp, chunks, microbatchSize);
  bool full = c.recompute == "full", selective = c.recompute == "selective";
  PipelineScheduleKind kind = c.schedule == "gpipe"   ? PipelineScheduleKind::GPipe
                              : c.virtualStages > 1   ? PipelineScheduleKind::Interleaved
                                                      : PipelineScheduleKind::OneFOneB;

  // Pass times per chunk: the backward does what the training step's backward ops of the
  // chunk do (without one, twice the forward's work), its collectives mirror the
  // forward's, and it first recomputes what the forward did not keep.
  std::vector<double> forward(chunks), backward(chunks, 0);
  double computePerMicrobatch = 0, communicationPerMicrobatch = 0;
  std::vector<double> rankCompute(c.pp, 0), rankCommunication(c.pp, 0);
  for (int64_t s = 0; s < chunks; ++s) {
    double compute = t.compute[s], communication = t.communication[s];
    forward[s] = compute + communication;
    double computeTotal = compute, communicationTotal = communication;
    if (request.train) {
      double recompute = full ? compute : selective ? t.scoreCompute[s] : 0;
      double recomputeCommunication = full ? communication : 0;
      double gradients = backwardOps.empty() ? 2 * compute : t.backwardCompute[s];
      backward[s] = gradients + communication + recompute + recomputeCommunication;
      computeTotal += gradients + recompute;
      communicationTotal += communication + recomputeCommunication;
    }
    rankCompute[s % c.pp] += computeTotal;
    rankCommunication[s % c.pp] += communicationTotal;
  }
  int64_t slowestRank = std::max_element(rankCompute.begin(), rankCompute.end()) -
                        rankCompute.begin();
  computePerMicrobatch = rankCompute[slowestRank];
  communicationPerMicrobatch = rankCommunication[slowestRank];
  double transfer = 0;
  const LinkProfile &stageLink = machine.linkFor(2 * c.tp * c.dp);
  for (int64_t s = 1; s < chunks; ++s)
    transfer = std::max(transfer, sendSeconds(t.incoming[s], stageLink));
  // The step does not depend on ZeRO: simulated once for both.
  auto key = std::make_tuple(c.tp, c.pp, chunks, microbatchSize, c.microbatches, int(kind),
                             c.recompute);
  auto cached = simulations.find(key);
  if (cached == simulations.end())
    cached = simulations
                 .emplace(key, pipelineStep(kind, c.pp, c.microbatches, c.virtualStages,
                                            request.train, forward, backward, transfer))
                 .first;
  PipelineSimulation pipeline = cached->second;
  c.bubbleFraction = pipeline.bubbleFraction;
  c.stepSeconds = pipeline.stepSeconds;
  c.computeSeconds = computePerMicrobatch * c.microbatches;
  c.communicationSeconds = communicationPerMicrobatch * c.microbatches +
                           (chunks > 1 ? transfer * c.microbatches * (request.train ? 2 : 1) : 0);

  // Memory, per pipeline rank; the rank that needs the most is the plan's peak.
  ModelStateBytes state = modelStateBytesPerParameter(request.precision, request.train,
                                                      request.optimizer, request.momentum);
  double heaviestParameters = 0;
  for (int64_t r = 0; r < c.pp; ++r) {
    double parameters = 0, kept = 0, workspace = 0;
    for (int64_t s = r; s < chunks; s += c.pp) {
      parameters += t.parameters[s];
      double chunkKept = full ? t.incoming[s] : selective ? t.keptWithoutScores[s] : t.keptAll[s];
      kept += chunkKept;
      // Recomputing a chunk rebuilds one microbatch's activations while its backward runs.
      workspace = std::max(workspace, t.workspace[s] + (full ? t.keptAll[s] : 0));
    }
    RankMemory memory;
    memory.weights = parameters * state.weights;
    memory.gradients = parameters * state.gradients;
    memory.optimizerState = parameters * state.optimizer / (c.zero ? c.dp : 1);
    memory.activations =
        request.train ? kept * microbatchesInFlight(kind, r, c.pp, c.microbatches,
                                                    c.virtualStages)
                      : 0;
    memory.workspace = workspace;
    if (memory.total() > c.peakMemory.total())
      c.peakMemory = memory;
    heaviestParameters = std::max(heaviestParameters, parameters);
  }

  if (request.train) {
    // Gradient synchronisation after the backward pass (not overlapped: an upper bound),
    // then the optimizer's pass over its state.
    double gradientBytes = heaviestParameters * state.gradients;
    double sync = c.zero ? 2 * collectiveSeconds(CollectiveKind::ReduceScatter, gradientBytes,
                                                 c.dp, c.tp * c.dp)
                         : collectiveSeconds(CollectiveKind::AllReduce, gradientBytes, c.dp,
                                             c.tp * c.dp);
    double updated = heaviestParameters / (c.zero ? c.dp : 1);
    double update = seconds(0, 2 * updated * (state.weights + state.gradients + state.optimizer));
    c.stepSeconds += sync + update;
    c.communicationSeconds += sync;
    c.computeSeconds += update;
  }
  if (!request.train && c.dp > 1) {
    // The replicas' results gathered, so that each output is whole.
    double gather = collectiveSeconds(CollectiveKind::AllGather,
                                      batchOutputBytes * elementBytes / 4, c.dp, c.tp * c.dp);
    c.stepSeconds += gather;
    c.communicationSeconds += gather;
  }
  double modelFlops = forwardFlops;
  if (request.train)
    modelFlops = 3 * forwardFlops + (full ? forwardFlops : selective ? scoreFlops : 0);
  c.modelFlopsPerDevice = modelFlops / (c.stepSeconds * request.devices);
  double usable = machine.device.memoryBytes * kUsableMemoryFraction;
  if (c.peakMemory.total() > usable)
    c.rejected = llvm::formatv("needs {0:f1} GB per device, {1:f1} GB more than the {2:f1} GB "
                               "a plan may use; the largest term is {3} ({4:f1} GB)",
                               c.peakMemory.total() / 1e9,
                               (c.peakMemory.total() - usable) / 1e9, usable / 1e9,
                               c.peakMemory.largestTerm(),
                               std::max({c.peakMemory.weights, c.peakMemory.gradients,
                                         c.peakMemory.optimizerState, c.peakMemory.activations,
                                         c.peakMemory.workspace}) /
                                   1e9)
                     .str();
  return c;
}

SmallVector<int64_t> divisorsOf(int64_t n) {
  SmallVector<int64_t> result;
  for (int64_t d = 1; d <= n; ++d)
    if (n % d == 0)
      result.push_back(d);
  return result;
}

/// `values` restricted to the pinned one, when there is one.
SmallVector<int64_t> within(SmallVector<int64_t> values, std::optional<int64_t> pinned) {
  if (!pinned)
    return values;
  return llvm::is_contained(values, *pinned) ? SmallVector<int64_t>{*pinned}
                                             : SmallVector<int64_t>{};
}

llvm::Expected<SearchResult> Searcher::run() {
  auto started = std::chrono::steady_clock::now();
  auto fail = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  if (request.devices < 1)
    return fail("--devices=" + llvm::Twine(request.devices) + ": expected 1 or more");
  device = machine.deviceAmong(request.devices);
  elementBytes = activationElementBytes(request.precision);
  peakKey = request.precision == ComputePrecision::F16    ? "f16"
            : request.precision == ComputePrecision::BF16 ? "bf16"
                                                          : "f32";
  if (!machine.device.peakFlops.count(peakKey))
    return fail("the machine profile '" + machine.name + "' has no " + peakKey +
                " peak (device.peak_flops." + peakKey + ")");
  // The global batch: dim 0 of the graph inputs (what the microbatch split divides).
  globalBatch = 0;
  for (BlockArgument argument : function.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(argument.getType());
    if (type && type.getRank() > 0 && !type.isDynamicDim(0)) {
      globalBatch = type.getDimSize(0);
      break;
    }
  }
  if (globalBatch < 1)
    return fail("the model has no input with a batch dim; bind it with --input-shape");
  countOps();

  SearchResult result;
  result.globalBatch = globalBatch;
  result.forwardFlops = forwardFlops;
  std::vector<LayoutCandidate> fitting, rejected;
  int64_t factored = 0;
  SmallVector<int64_t> tensorDegrees = within(divisorsOf(request.devices), request.tp);
  std::reverse(tensorDegrees.begin(), tensorDegrees.end()); // see tensorParallel()
  for (int64_t tp : tensorDegrees) {
    if (machine.devicesPerNode % tp != 0 && !request.tp)
      continue; // tensor-parallel groups tile the nodes
    for (int64_t pp : within(divisorsOf(request.devices / tp), request.pp)) {
      int64_t dp = request.devices / (tp * pp);
      if ((request.dp && *request.dp != dp) || globalBatch % dp != 0)
        continue;
      ++factored;
      SmallVector<int64_t> microbatchCounts = divisorsOf(globalBatch / dp);
      if (pp == 1 && !request.train)
        microbatchCounts = {1}; // without a pipeline or gradients, splitting only slows
      for (int64_t m : within(microbatchCounts, request.microbatches)) {
        SmallVector<std::pair<std::string, int64_t>> schedules;
        if (pp == 1) {
          schedules.push_back({"1f1b", 1});
        } else {
          schedules.push_back({"1f1b", 1});
          schedules.push_back({"gpipe", 1});
          if (m % pp == 0)
            for (int64_t v : {2, 4, 8})
              schedules.push_back({"1f1b", v});
        }
        for (auto [schedule, v] : schedules) {
          if ((request.schedule && *request.schedule != schedule) ||
              (request.virtualStages ? *request.virtualStages != v : false))
            continue;
          // A chunk of fewer than kMinOpsPerChunk ops with work is never worth its
          // transfers (and cutting ever finer only slows the search). Interleaving, which
          // only shortens the bubble, is tried only while a chunk can be as heavy as the
          // heaviest op: finer chunks cannot be balanced, the one holding that op sets the
          // pace (a pipeline without it may still be needed to fit, so pp is not bounded).
          if (pp * v * kMinOpsPerChunk > std::max<int64_t>(opsWithWork, kMinOpsPerChunk) ||
              (v > 1 && pp * v * heaviestOpSeconds > forwardSeconds) || !partition(pp * v))
            continue;
          SmallVector<std::string> recomputes{"none"};
          if (request.train)
            recomputes = {"none", "selective", "full"};
          for (const std::string &recompute : recomputes) {
            if (request.recompute && *request.recompute != recompute)
              continue;
            SmallVector<int64_t> zeros{0};
            if (request.train && dp > 1)
              zeros.push_back(1);
            for (int64_t zero : within(zeros, request.zero)) {
              LayoutCandidate layout;
              layout.tp = tp, layout.pp = pp, layout.dp = dp, layout.microbatches = m;
              layout.virtualStages = v, layout.schedule = schedule;
              layout.recompute = recompute, layout.zero = zero;
              LayoutCandidate priced = evaluate(layout);
              ++result.evaluated;
              (priced.rejected.empty() ? fitting : rejected).push_back(std::move(priced));
            }
          }
        }
      }
    }
  }
  auto byTime = [](const LayoutCandidate &a, const LayoutCandidate &b) {
    return a.stepSeconds < b.stepSeconds;
  };
  if (factored == 0) {
    std::string pins;
    for (auto [name, value] : {std::pair<const char *, std::optional<int64_t>>{"tp", request.tp},
                               {"pp", request.pp},
                               {"dp", request.dp}})
      if (value)
        pins += std::string(" --") + name + "=" + std::to_string(*value);
    return fail("--devices=" + llvm::Twine(request.devices) +
                " cannot be factored into dp x pp x tp" +
                (pins.empty() ? "" : " with" + pins) + " (tp dividing " +
                llvm::Twine(machine.devicesPerNode) + ", the devices of a node; dp dividing the " +
                "batch of " + llvm::Twine(globalBatch) + ")");
  }
  if (result.evaluated == 0)
    return fail("no layout of " + llvm::Twine(request.devices) +
                (request.devices == 1 ? " device" : " devices") + " suits the model (the pinned microbatches, schedule or stages do not "
                "divide its batch of " +
                llvm::Twine(globalBatch) + " or its " + llvm::Twine(opsWithWork) + " ops)");
  if (fitting.empty()) {
    const LayoutCandidate &smallest = *std::min_element(
        rejected.begin(), rejected.end(), [](const LayoutCandidate &a, const LayoutCandidate &b) {
          return a.peakMemory.total() < b.peakMemory.total();
        });
    return fail("no layout of " + llvm::Twine(request.devices) +
                (request.devices == 1 ? " device" : " devices") + " fits in " +
                machine.name + "'s memory; the smallest, " + smallest.describe() + ", " +
                smallest.rejected);
  }
  std::stable_sort(fitting.begin(), fitting.end(), byTime);
  std::stable_sort(rejected.begin(), rejected.end(), byTime);
  // One runner-up per tp x pp x dp, so the list shows alternatives, not near-copies.
  std::set<std::tuple<int64_t, int64_t, int64_t>> shown;
  for (LayoutCandidate &c : fitting)
    if (result.ranked.size() < request.keep &&
        (result.ranked.empty() || shown.insert({c.tp, c.pp, c.dp}).second)) {
      shown.insert({c.tp, c.pp, c.dp});
      result.ranked.push_back(c);
    }
  for (LayoutCandidate &c : rejected)
    if (result.rejected.size() < request.keep && shown.insert({c.tp, c.pp, c.dp}).second)
      result.rejected.push_back(c);
  result.searchSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

} // namespace

llvm::Expected<SearchResult> mlir::parc::searchParallelLayouts(func::FuncOp function,
                                                               const MachineProfile &machine,
                                                               const SearchRequest &request) {
  return Searcher(function, machine, request).run();
}
