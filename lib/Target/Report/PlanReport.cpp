//===- PlanReport.cpp - the plan parc-compile --report prints -------------===//

#include "parc/Target/Report/PlanReport.h"

#include "parc/Analysis/CostModel.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "parc/Transforms/Passes.h"

#include "llvm/Support/Format.h"

using namespace mlir;
using namespace mlir::parc;

static std::string nodeOf(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "";
}

/// The weights' layouts over the tensor-parallel ranks and the collectives of one
/// microbatch's forward pass (the first microbatch's, in a pipelined module).
static void printTensorParallelReport(ModuleOp module, int64_t ranks,
                                      llvm::raw_ostream &os) {
  os << "  weights (layout, bytes per rank of all):\n";
  int64_t split = 0, whole = 0;
  for (auto weight : module.getOps<WeightOp>()) {
    RankedTensorType type = weight.getType();
    ShardingAttr sharding = weight.getShardingAttr();
    int64_t bytes = getStorageBytes(type);
    int64_t local = sharding && sharding.isSplit() ? bytes / ranks : bytes;
    (sharding && sharding.isSplit() ? split : whole) += local;
    os << "    " << weight.getSymName() << "  ";
    if (sharding && sharding.isSplit()) {
      os << "split(" << sharding.getDim();
      if (sharding.getGroups() != 1)
        os << ", groups = " << sharding.getGroups();
      os << ")";
    } else {
      os << "replicated";
      bool divisible = llvm::any_of(type.getShape(),
                                    [&](int64_t dim) { return dim % ranks == 0; });
      if (type.getRank() >= 2 && !divisible)
        os << " (no dim divides by " << ranks << ")";
    }
    os << "  " << local << " of " << bytes << "\n";
  }
  os << "  weight bytes per rank: " << split << " split + " << whole
     << " replicated\n  collectives per forward pass (tensor moved):\n";
  int64_t count = 0;
  module.walk([&](Operation *op) {
    if (!isa<AllReduceOp, AllGatherOp, ReduceScatterOp>(op))
      return;
    auto microbatch = op->getAttrOfType<IntegerAttr>(kMicrobatchAttr);
    if (microbatch && microbatch.getInt() != 0)
      return;
    // The whole tensor: the result of an all-reduce or all-gather, the input of a scatter.
    auto type = cast<RankedTensorType>(isa<ReduceScatterOp>(op)
                                           ? op->getOperand(0).getType()
                                           : op->getResult(0).getType());
    std::string node = nodeOf(op->getLoc());
    os << "    " << op->getName().stripDialect() << "  " << type.getNumElements()
       << " elements, " << getStorageBytes(type) << " bytes"
       << (node.empty() ? "" : "  after '" + node + "'") << "\n";
    ++count;
  });
  os << "  collectives: " << count << "\n";
}

/// Each pipeline chunk's modelled time, ops, weights and incoming bytes, each stage's
/// memory, the balance against the ideal and what the schedule simulation predicts.
/// Whether the module is a training step (parc-apply-optimizer marks @main).
static bool isTrainingStep(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  return main && main->hasAttr(kTrainingAttr);
}

static void printPipelineReport(ModuleOp module, DictionaryAttr plan,
                                llvm::raw_ostream &os) {
  auto integer = [&](StringRef name) { return cast<IntegerAttr>(plan.get(name)).getInt(); };
  auto real = [&](StringRef name) {
    return cast<FloatAttr>(plan.get(name)).getValueAsDouble();
  };
  auto reals = [&](StringRef name) {
    SmallVector<double> values;
    for (Attribute value : cast<ArrayAttr>(plan.get(name)))
      values.push_back(cast<FloatAttr>(value).getValueAsDouble());
    return values;
  };
  int64_t stages = integer("stages"), virtualStages = integer("virtual_stages");
  SmallVector<double> seconds = reals("chunk_seconds");
  SmallVector<double> weights = reals("chunk_weight_bytes");
  SmallVector<double> incoming = reals("chunk_incoming_bytes");
  ArrayRef<int64_t> ops = cast<DenseI64ArrayAttr>(plan.get("chunk_ops")).asArrayRef();
  os << "  pipeline: " << stages << " stages";
  if (virtualStages > 1)
    os << " x " << virtualStages << " chunks each (interleaved)";
  os << ", " << integer("microbatches") << " microbatches, schedule "
     << cast<StringAttr>(plan.get("schedule")).getValue() << "\n";
  double total = 0, heaviest = 0;
  for (auto [chunk, time] : llvm::enumerate(seconds)) {
    total += time;
    heaviest = std::max(heaviest, time);
    os << "    chunk " << chunk << " on stage " << chunk % stages << ": " << ops[chunk]
       << " ops, " << llvm::format("%.4f", time * 1e3) << " ms per microbatch, weights "
       << static_cast<int64_t>(weights[chunk]) << " bytes, receives "
       << static_cast<int64_t>(incoming[chunk]) << " bytes\n";
  }
  for (int64_t stage = 0; stage < stages; ++stage) {
    auto function = module.lookupSymbol<func::FuncOp>("stage" + std::to_string(stage));
    auto arena = function ? function->getAttrOfType<IntegerAttr>(kArenaBytesAttr) : nullptr;
    double stageWeights = 0;
    for (int64_t chunk = stage; chunk < static_cast<int64_t>(weights.size()); chunk += stages)
      stageWeights += weights[chunk];
    os << "    stage " << stage << " memory: weights " << static_cast<int64_t>(stageWeights)
       << " bytes";
    if (arena)
      os << ", activation arena " << arena.getInt() << " bytes";
    os << "\n";
  }
  // Training: what activation recomputation costs and what the arena holds at its peak.
  auto policy = dyn_cast_or_null<StringAttr>(plan.get("recompute"));
  if (policy && isTrainingStep(module)) {
    SmallVector<double> flops = reals("recomputed_flops");
    SmallVector<double> kept = reals("kept_activation_bytes");
    for (int64_t stage = 0; stage < stages; ++stage) {
      auto function = module.lookupSymbol<func::FuncOp>("stage" + std::to_string(stage));
      auto arena = function ? function->getAttrOfType<IntegerAttr>(kArenaBytesAttr) : nullptr;
      os << "    stage " << stage << " recompute=" << policy.getValue()
         << ": kept activations " << llvm::format("%.0f", kept[stage])
         << " bytes, peak arena " << (arena ? arena.getInt() : 0) << " bytes, recomputed "
         << llvm::format("%.0f", flops[stage]) << " FLOPs per step\n";
    }
  }
  double ideal = total / seconds.size();
  os << "  balance: ideal " << llvm::format("%.4f", ideal * 1e3)
     << " ms per chunk, heaviest " << llvm::format("%.4f", heaviest * 1e3)
     << " ms, imbalance " << llvm::format("%.3f", real("imbalance"))
     << " (heaviest / ideal)\n"
     << "  schedule simulation: step " << llvm::format("%.4f", real("step_seconds") * 1e3)
     << " ms, bubble " << llvm::format("%.1f", real("bubble_fraction") * 100)
     << "% of the step\n";
}

void mlir::parc::printPlanReport(ModuleOp module, llvm::raw_ostream &os) {
  int64_t dp = getMeshAxisSize(module, "dp").value_or(1);
  int64_t pp = getMeshAxisSize(module, "pp").value_or(1);
  int64_t tp = getMeshAxisSize(module, "tp").value_or(1);
  auto plan = module->getAttrOfType<DictionaryAttr>(kPipelinePlanAttr);
  if (tp <= 1 && dp <= 1 && !plan)
    return;
  os << "  mesh: dp=" << dp << " pp=" << pp << " tp=" << tp
     << " (rank = (d * pp + stage) * tp + t)\n";
  if (tp > 1)
    printTensorParallelReport(module, tp, os);
  if (plan)
    printPipelineReport(module, plan, os);
}

void mlir::parc::printPredictedTime(ModuleOp module, const MachineProfile &profile,
                                    int64_t ranks, llvm::raw_ostream &os,
                                    const LayoutCandidate *priced, StringRef unpriced) {
  MachineProfile machine = profile;
  machine.device = profile.deviceAmong(ranks);
  os << "  predicted on " << machine.name << ": ";
  StringRef per = isTrainingStep(module) ? "step" : "run";
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (module->hasAttr(kPipelinePlanAttr) || !main) {
    // The pipeline's ranks run different programs: the layout search's price of the
    // layout (its stage table and schedule simulation on this profile) stands for them.
    if (!priced) {
      os << "not priced: " << (unpriced.empty() ? StringRef("no layout price") : unpriced)
         << "\n";
      return;
    }
    os << llvm::format("%.3f", priced->stepSeconds * 1e3) << " ms per " << per
       << " (the layout search's price of " << priced->describe() << ": compute "
       << llvm::format("%.3f", priced->computeSeconds * 1e3) << " ms, communication "
       << llvm::format("%.3f", priced->communicationSeconds * 1e3) << " ms, bubble "
       << llvm::format("%.1f", priced->bubbleFraction * 100) << "%)\n";
    return;
  }
  ProgramTime time = predictProgramTime(main, machine);
  os << llvm::format("%.3f", time.total() * 1e3) << " ms per " << per
     << " on each rank (compute " << llvm::format("%.3f", time.compute * 1e3)
     << " ms, communication " << llvm::format("%.3f", time.communication * 1e3) << " ms)\n";
}
