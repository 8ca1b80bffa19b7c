//===- BuildPipeline.cpp - per-stage programs with their schedule ---------===//
//
// Cuts @main (one microbatch's program) into pipeline chunks and writes, for every pipeline
// stage, one function that runs its chunks for every microbatch in the order the schedule
// fixes, with the transfers between stages; see the pass description.
//
//===----------------------------------------------------------------------===//

#include "Pipeline/PipelineBuilder.h"
#include "Pipeline/TransferCheck.h"

#include "parc/Transforms/Passes.h"

#include <memory>

namespace mlir::parc {
#define GEN_PASS_DEF_BUILDPIPELINEPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;
using namespace mlir::parc::pipeline;

namespace {

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