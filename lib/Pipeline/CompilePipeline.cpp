//===- CompilePipeline.cpp - the whole compile flow as a pass pipeline ----===//
//
// The order is load-bearing: data parallelism and the microbatch split come first, so that
// every later pass sees one microbatch of one rank's share of the batch; the loss comes
// before tensor parallelism, so the planner sees it; the backward pass is built on the
// partitioned program (it reads the layouts the partition recorded); the pipeline build
// cuts the program as parc-differentiate linked it; the data-parallel signature is
// restored last. See docs/architecture.md.
//
//===----------------------------------------------------------------------===//

#include "parc/Pipeline/CompilePipeline.h"

#include "parc/Target/Target.h"

#include "parc/Transforms/Passes.h"

#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::parc;

std::string mlir::parc::validateCompileOptions(const CompileOptions &o) {
  auto positive = [](const char *flag, int64_t value) {
    return value >= 1 ? std::string()
                      : "--" + std::string(flag) + "=" + std::to_string(value) +
                            ": expected a positive number";
  };
  const Target *target = lookupTarget(o.target);
  if (!target)
    return "--target=" + o.target + ": expected " + describeTargetNames();
  if (std::string reason = target->trainingUnsupportedReason(); o.train && !reason.empty())
    return reason;
  for (auto [flag, value] : {std::pair{"dp", o.dp}, {"tp", o.tp}, {"pp", o.pp},
                             {"microbatches", o.microbatches},
                             {"virtual-stages", o.virtualStages}})
    if (std::string problem = positive(flag, value); !problem.empty())
      return problem;
  if (o.schedule != "gpipe" && o.schedule != "1f1b")
    return "--schedule=" + o.schedule + ": expected gpipe or 1f1b";
  if (o.zero != 0 && o.zero != 1)
    return "--zero=" + std::to_string(o.zero) + ": only 0 and 1 are supported";
  if (o.zero == 1 && (!o.train || o.dp < 2))
    return "--zero=1 needs --train and --dp of 2 or more";
  if (o.recompute != "none" && o.recompute != "full" && o.recompute != "selective" &&
      o.recompute != "auto")
    return "--recompute=" + o.recompute + ": expected none, full, selective or auto";
  if (o.recompute != "none" && !o.train)
    return "--recompute needs --train";
  if ((o.recompute == "auto") != (o.memoryBudget > 0))
    return "--recompute=auto and --memory-budget go together";
  if (!o.train && o.trainingOptionsGiven)
    return "--loss, --optimizer and --lr need --train";
  return "";
}

void mlir::parc::buildCompilePipeline(OpPassManager &pm, const CompileOptions &o,
                                      CompileStage stage) {
  if (o.tp > 1 || o.dp > 1)
    pm.addPass(createSetMeshPass({o.dp, o.tp}));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (stage == CompileStage::Imported)
    return;
  bool pipelined = o.pipelined();
  if (o.dp > 1)
    pm.addPass(createPartitionDataParallelPass());
  if (pipelined)
    pm.addPass(createSplitMicrobatchesPass({o.microbatches}));
  if (o.train)
    pm.addPass(createAddLossPass({o.loss}));
  if (o.tp > 1) {
    pm.addPass(createPlanTensorParallelPass());
    pm.addPass(createPartitionTensorParallelPass());
    // The backward pass reads the layouts the partition recorded on each op; cleaning up
    // waits until it is built.
    if (!o.train)
      pm.addPass(createCanonicalizerPass());
  }
  if (o.train) {
    DifferentiatePassOptions backward;
    backward.linkAdjoints = pipelined;
    pm.addPass(createDifferentiatePass(backward));
    ApplyOptimizerPassOptions step;
    step.optimizer = o.optimizer;
    step.learningRate = o.learningRate;
    step.momentum = o.momentum;
    step.weightDecay = o.weightDecay;
    step.beta1 = o.beta1;
    step.beta2 = o.beta2;
    step.epsilon = o.epsilon;
    step.bucketBytes = o.bucketBytes;
    step.zero = o.zero;
    pm.addPass(createApplyOptimizerPass(step));
    // The pipeline build cuts the program as parc-differentiate linked it; it is cleaned
    // up afterwards.
    if (!pipelined) {
      pm.addPass(createCanonicalizerPass());
      pm.addPass(createCSEPass());
    }
  }
  if (pipelined) {
    BuildPipelinePassOptions pipeline;
    pipeline.stages = o.pp;
    pipeline.virtualStages = o.virtualStages;
    pipeline.schedule = o.schedule;
    pipeline.memoryLimit = o.memoryLimit;
    pipeline.recompute = o.recompute;
    pipeline.memoryBudget = o.memoryBudget;
    pm.addPass(createBuildPipelinePass(pipeline));
    if (o.train) {
      pm.addPass(createCanonicalizerPass());
      pm.addPass(createCSEPass());
    }
  }
  if (o.dp > 1)
    pm.addPass(createFinishDataParallelPass());
  if (stage == CompileStage::Partitioned)
    return;
  // Fusion: what a GPU runs as one kernel (shown for either target when asked for).
  const Target *target = lookupTarget(o.target);
  if ((target && target->runsFusedRegions()) || stage == CompileStage::Fused)
    pm.addNestedPass<func::FuncOp>(createFusePass());
  if (stage == CompileStage::Planned)
    pm.addNestedPass<func::FuncOp>(createPlanBuffersPass());
}

namespace {

/// parc-compile's flags as pipeline options (sizes in bytes).
struct CompilePipelineOptions : public PassPipelineOptions<CompilePipelineOptions> {
  Option<std::string> emit{*this, "emit",
                           llvm::cl::desc("Where to stop: parc, partitioned, fused or planned"),
                           llvm::cl::init("partitioned")};
  Option<std::string> target{*this, "target", llvm::cl::desc("cpu or cuda"),
                             llvm::cl::init("cpu")};
  Option<int64_t> dp{*this, "dp", llvm::cl::desc("data-parallel ranks"), llvm::cl::init(1)};
  Option<int64_t> tp{*this, "tp", llvm::cl::desc("tensor-parallel ranks"), llvm::cl::init(1)};
  Option<int64_t> pp{*this, "pp", llvm::cl::desc("pipeline stages"), llvm::cl::init(1)};
  Option<int64_t> microbatches{*this, "microbatches", llvm::cl::desc("microbatches"),
                               llvm::cl::init(1)};
  Option<int64_t> virtualStages{*this, "virtual-stages",
                                llvm::cl::desc("model chunks per stage"), llvm::cl::init(1)};
  Option<std::string> schedule{*this, "schedule", llvm::cl::desc("gpipe or 1f1b"),
                               llvm::cl::init("1f1b")};
  Option<int64_t> memoryLimit{*this, "memory-limit",
                              llvm::cl::desc("weight bytes per pipeline rank (0: none)"),
                              llvm::cl::init(0)};
  Option<bool> train{*this, "train", llvm::cl::desc("compile a training step"),
                     llvm::cl::init(false)};
  Option<std::string> loss{*this, "loss", llvm::cl::desc("cross_entropy or mse"),
                           llvm::cl::init("cross_entropy")};
  Option<std::string> optimizer{*this, "optimizer", llvm::cl::desc("sgd or adamw"),
                                llvm::cl::init("sgd")};
  Option<double> lr{*this, "lr", llvm::cl::desc("learning rate"), llvm::cl::init(1e-3)};
  Option<double> momentum{*this, "momentum", llvm::cl::desc("SGD momentum"),
                          llvm::cl::init(0.0)};
  Option<double> weightDecay{*this, "weight-decay", llvm::cl::desc("weight decay"),
                             llvm::cl::init(0.0)};
  Option<double> beta1{*this, "beta1", llvm::cl::desc("AdamW beta1"), llvm::cl::init(0.9)};
  Option<double> beta2{*this, "beta2", llvm::cl::desc("AdamW beta2"), llvm::cl::init(0.999)};
  Option<double> eps{*this, "eps", llvm::cl::desc("AdamW epsilon"), llvm::cl::init(1e-8)};
  Option<int64_t> zero{*this, "zero", llvm::cl::desc("ZeRO stage (0 or 1)"), llvm::cl::init(0)};
  Option<int64_t> bucketBytes{*this, "bucket-bytes",
                              llvm::cl::desc("gradient bytes per all-reduce bucket"),
                              llvm::cl::init(25 << 20)};
  Option<std::string> recompute{*this, "recompute",
                                llvm::cl::desc("none, full, selective or auto"),
                                llvm::cl::init("none")};
  Option<int64_t> memoryBudget{*this, "memory-budget",
                               llvm::cl::desc("activation bytes per rank (recompute=auto)"),
                               llvm::cl::init(0)};

  CompileOptions toCompileOptions() const {
    CompileOptions o;
    o.target = target;
    o.dp = dp, o.tp = tp, o.pp = pp, o.microbatches = microbatches;
    o.virtualStages = virtualStages;
    o.schedule = schedule;
    o.memoryLimit = memoryLimit;
    o.train = train;
    o.loss = loss, o.optimizer = optimizer;
    o.learningRate = lr, o.momentum = momentum, o.weightDecay = weightDecay;
    o.beta1 = beta1, o.beta2 = beta2, o.epsilon = eps;
    o.zero = zero, o.bucketBytes = bucketBytes;
    o.recompute = recompute, o.memoryBudget = memoryBudget;
    o.trainingOptionsGiven = loss.hasValue() || optimizer.hasValue() || lr.hasValue();
    return o;
  }
};

} // namespace

void mlir::parc::registerCompilePipeline() {
  registerPassPipeline(
      "parc-compile-pipeline",
      "parc's whole compile flow up to `emit` (default: partitioned), with parc-compile's "
      "flags as options: \"tp=2 pp=2 microbatches=2\", \"train optimizer=adamw dp=2\"",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) -> LogicalResult {
        CompilePipelineOptions options;
        if (failed(options.parseFromString(text)))
          return failure();
        CompileStage stage;
        std::string emit = options.emit;
        if (emit == "parc")
          stage = CompileStage::Imported;
        else if (emit == "partitioned")
          stage = CompileStage::Partitioned;
        else if (emit == "fused")
          stage = CompileStage::Fused;
        else if (emit == "planned")
          stage = CompileStage::Planned;
        else
          return errorHandler("emit=" + emit + ": expected parc, partitioned, fused or planned");
        CompileOptions compile = options.toCompileOptions();
        if (std::string problem = validateCompileOptions(compile); !problem.empty())
          return errorHandler(problem);
        buildCompilePipeline(pm, compile, stage);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> handler) {
        handler(CompilePipelineOptions());
      });
}
