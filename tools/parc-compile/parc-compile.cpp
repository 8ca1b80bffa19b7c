//===- parc-compile.cpp - the parc compiler driver ------------------------===//
//
// Imports an ONNX model and compiles it into an artifact for parc-run. `--emit=` stops after
// a stage and prints it, as Toy's toyc does, so every stage can be inspected:
//   --emit=parc      the imported module after canonicalization (shape arithmetic folded)
//   --emit=partitioned  after the microbatch split, tensor and pipeline partitioning
//   --emit=fused     after fusion (parc.fused regions: one generated kernel each)
//   --emit=cuda      the CUDA C++ of every generated kernel (--target=cuda)
//   --emit=planned   after buffer planning (each activation's arena offset)
//   --emit=artifact  the .parc artifact (the default; needs -o)
//
//===----------------------------------------------------------------------===//

#include "CompileCommandLine.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Import/OnnxImporter.h"
#include "parc/Pipeline/CompilePipeline.h"
#include "parc/Support/Diagnostics.h"
#include "parc/Target/Artifact/ArtifactWriter.h"
#include "parc/Target/Cuda/KernelEmitter.h"
#include "parc/Target/Report/PlanReport.h"
#include "parc/Target/Report/SearchReport.h"
#include "parc/Analysis/ParallelSearch.h"
#include "parc/Target/Target.h"
#include "parc/Runtime/ProcessMemory.h"
#include "parc/Runtime/ProgressLine.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "parc/Dialect/Parc/IR/ParcDialect.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <chrono>

using namespace mlir;
using namespace mlir::parc;

/// An address inside this executable, for finding its path.
static void executableAnchor() {}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  parseCompileFlags(argc, argv);

  MLIRContext context;
  // Errors name the ONNX node; a dump of the op they were found at helps no user.
  context.printOpOnDiagnostic(false);
  OneLineDiagnosticHandler diagnostics(&context, "parc-compile");
  auto fail = [&](const std::string &message) {
    emitError(UnknownLoc::get(&context)) << message;
    return 1;
  };
  llvm::Expected<CompileCommand> parsed = readCompileCommand();
  if (!parsed)
    return fail(llvm::toString(parsed.takeError()));
  CompileCommand &command = *parsed;
  if (command.printSupportedOps) {
    for (StringRef op : getSupportedOnnxOps())
      llvm::outs() << op << "\n";
    return 0;
  }
  // Progress on standard error: each stage as it finishes (docs/runtime.md, "Progress").
  // An error first erases a status line left on the terminal.
  ::parc::rt::ProgressLine progress("parc-compile", command.quiet);
  ScopedDiagnosticHandler eraseStatus(&context, [&](Diagnostic &) {
    progress.clear();
    return failure(); // on to the one-line handler
  });
  using Clock = std::chrono::steady_clock;
  Clock::time_point stageStart = Clock::now();
  auto finishStage = [&](const std::string &what) {
    double seconds = std::chrono::duration<double>(Clock::now() - stageStart).count();
    progress.finished(what + " in " + ::parc::rt::formatDuration(seconds));
    stageStart = Clock::now();
  };
  auto countOps = [](ModuleOp module) {
    int64_t ops = 0;
    module->walk([&](Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "parc")
        ++ops;
    });
    return ops;
  };
  const std::string &inputFile = command.inputFile;
  const std::string &outputFile = command.outputFile;
  const std::string &target = command.compile.target;
  const std::string &cudaArch = command.cudaArch;
  const std::string &planJson = command.planJson;
  EmitStage emitStage = command.emit;
  bool printReport = command.printReport, planOnly = command.planOnly;
  bool planning = command.planning, train = command.compile.train;
  CompileOptions &compile = command.compile;
  SearchRequest &search = command.search;
  OnnxImportOptions &options = command.import;

  // Loaded before compiling, so that a bad profile costs no compile time.
  std::optional<MachineProfile> cluster;
  if (!command.cluster.empty()) {
    llvm::SmallString<256> calibrator(llvm::sys::path::parent_path(
        llvm::sys::fs::getMainExecutable(argv[0], (void *)&executableAnchor)));
    llvm::sys::path::append(calibrator, "parc-calibrate");
    llvm::Expected<MachineProfile> profile = loadMachineProfile(command.cluster, calibrator);
    if (!profile)
      return fail("--cluster=" + command.cluster + ": " + llvm::toString(profile.takeError()));
    cluster = std::move(*profile);
  }

  // A .mlir input is a parc module already (hand-written or from --emit=parc); anything
  // else is read as ONNX.
  OwningOpRef<ModuleOp> module;
  if (StringRef(inputFile).ends_with(".mlir")) {
    DialectRegistry registry;
    registry.insert<ParcDialect, func::FuncDialect>();
    context.appendDialectRegistry(registry);
    module = parseSourceFile<ModuleOp>(inputFile, &context);
  } else {
    stageStart = Clock::now();
    progress.status("importing " + inputFile);
    module = importOnnxModel(context, inputFile, options);
  }
  if (!module)
    return 1;
  finishStage("import: " + std::to_string(countOps(*module)) + " ops from " + inputFile);

  // An explicit pipelined layout under --report --cluster is priced as the search prices
  // it (its ranks run different programs, which rank 0's op-by-op price does not cover).
  bool pricing = !planning && printReport && cluster && compile.pp > 1 &&
                 emitStage == EmitStage::Artifact;
  std::optional<SearchResult> searched;
  std::string unpriced;
  if (planning || pricing) {
    // The search reads the imported graph with its shape arithmetic folded.
    PassManager imported(&context);
    buildCompilePipeline(imported, CompileOptions(), CompileStage::Imported);
    if (failed(imported.run(*module)))
      return 1;
    auto main = module->lookupSymbol<func::FuncOp>("main");
    if (!main)
      return fail("the model has no @main to plan");
    // Training: the backward pass is priced from the step parc builds for it.
    OwningOpRef<ModuleOp> trainingStep;
    if (train) {
      trainingStep = buildSearchTrainingStep(*module, compile);
      if (!trainingStep)
        return 1;
      search.trainingStep = trainingStep->lookupSymbol<func::FuncOp>("main");
    }
    progress.status("planning: pricing layouts on " + cluster->name);
    llvm::Expected<SearchResult> result = searchParallelLayouts(main, *cluster, search);
    if (result)
      finishStage("plan: " + std::to_string(result->evaluated) +
                  " layouts priced, chose " + result->best().describe());
    if (!result && pricing)
      unpriced = llvm::toString(result.takeError());
    else if (!result)
      return fail(llvm::toString(result.takeError()));
    else
      searched = std::move(*result);
  }
  if (planning) {
    if (printReport || planOnly)
      printSearchReport(*searched, *cluster, search, llvm::outs());
    if (!planJson.empty())
      if (llvm::Error error = writePlanJson(*searched, *cluster, search, planJson))
        return fail(llvm::toString(std::move(error)));
    if (planOnly)
      return 0;
    const LayoutCandidate &best = searched->best();
    compile.tp = best.tp, compile.pp = best.pp, compile.dp = best.dp;
    compile.microbatches = best.microbatches, compile.virtualStages = best.virtualStages;
    compile.schedule = best.schedule, compile.recompute = best.recompute;
    compile.zero = best.zero;
    if (compile.recompute != "auto")
      compile.memoryBudget = 0;
    if (std::string problem = validateCompileOptions(compile); !problem.empty())
      return fail("the chosen layout " + best.describe() + ": " + problem);
  }

  CompileStage stage = emitStage == EmitStage::Parc          ? CompileStage::Imported
                       : emitStage == EmitStage::Partitioned ? CompileStage::Partitioned
                       : emitStage == EmitStage::Fused || emitStage == EmitStage::Cuda
                           ? CompileStage::Fused
                           : CompileStage::Planned;
  PassManager pm(&context);
  buildCompilePipeline(pm, compile, stage);
  // On a terminal the status line names the pass running.
  struct PassStatus : public PassInstrumentation {
    ::parc::rt::ProgressLine &progress;
    explicit PassStatus(::parc::rt::ProgressLine &progress) : progress(progress) {}
    void runBeforePass(Pass *pass, Operation *) override {
      progress.status("compiling: " + pass->getName().str());
    }
  };
  if (progress.onTerminal())
    pm.addInstrumentation(std::make_unique<PassStatus>(progress));
  if (failed(pm.run(*module)))
    return 1;
  {
    int64_t fused = 0;
    module->walk([&](FusedOp) { ++fused; });
    finishStage("compile: " + std::to_string(pm.size()) + " passes, " +
                std::to_string(countOps(*module)) + " ops" +
                (fused ? ", " + std::to_string(fused) + " fused kernels" : std::string()));
  }

  if (emitStage == EmitStage::Cuda) {
    // Every kernel's CUDA C++, as the artifact would hold it.
    std::string sources;
    llvm::raw_string_ostream os(sources);
    int index = 0;
    int gemms = 0;
    WalkResult walk = module->walk([&](Operation *op) {
      if (op->getParentOfType<FusedOp>())
        return WalkResult::advance(); // inside a region: part of its kernel
      auto fused = dyn_cast<FusedOp>(op);
      if (fused && fused.getKind() == "gemm") {
        auto product = cast<RankedTensorType>(fused.getResult(0).getType());
        os << "// gemm_" << gemms++ << ": cuBLASLt matmul to " << product << ", epilogue "
           << fused->getAttrOfType<StringAttr>("epilogue").getValue() << "\n\n";
        return WalkResult::advance();
      }
      if (!fused && !hasMovementKernel(op))
        return WalkResult::advance();
      // Shard ops are shown as rank 0 of their group runs them.
      std::string name = "parc_kernel_" + std::to_string(index++);
      FailureOr<CudaKernel> kernel =
          fused ? emitCudaKernel(fused, name) : emitMovementKernel(op, name, 0, 1);
      if (failed(kernel))
        return WalkResult::interrupt();
      os << "// " << kernel->name << ": "
         << (fused ? fused.getKind().str() : op->getName().stripDialect().str()) << ", "
         << (kernel->row    ? std::to_string(kernel->rows) + " rows of " +
                                  std::to_string(kernel->rowLength)
             : kernel->tiles ? std::to_string(kernel->tiles) + " tiles of 32 x 32"
                             : std::to_string(kernel->elements) + " elements" +
                               (kernel->lanes > 1 ? " (" + std::to_string(kernel->lanes) + " lanes, 16-byte)" : std::string()))
         << "\n"
         << kernel->source << "\n";
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return 1;
    std::string errorMessage;
    std::unique_ptr<llvm::ToolOutputFile> output = openOutputFile(outputFile, &errorMessage);
    if (!output) {
      emitError(UnknownLoc::get(&context)) << "-o " << outputFile << ": " << errorMessage;
      return 1;
    }
    output->os() << sources;
    output->keep();
    return 0;
  }

  if (emitStage == EmitStage::Artifact) {
    ArtifactStats stats;
    progress.status("writing " + outputFile);
    if (failed(writeArtifact(*module, outputFile, target, &stats, cudaArch, command.randomWeights)))
      return 1;
    finishStage("write: " + outputFile + ", " + std::to_string(stats.fileBytes) + " bytes, " +
                std::to_string(stats.ranks) + (stats.ranks == 1 ? " rank" : " ranks"));
    if (printReport) {
      llvm::outs() << "parc-compile report for " << inputFile << "\n"
                   << "  target: " << target << ", " << stats.ranks
                   << (stats.ranks == 1 ? " rank" : " ranks") << "\n";
      printPlanReport(*module, llvm::outs());
      if (cluster)
        printPredictedTime(*module, *cluster, stats.ranks, llvm::outs(),
                           searched ? &searched->best() : nullptr, unpriced);
      llvm::outs() << "  rank 0: weights " << stats.weightBytes
                   << " bytes, peak activations " << stats.arenaBytes
                   << " bytes (planned arena), " << stats.instructions
                   << " instructions\n"
                   << "  artifact: " << stats.fileBytes << " bytes\n";
      lookupTarget(target)->printReport(stats, cudaArch, llvm::outs());
      llvm::outs()
                   << "  parc-compile peak RSS: " << ::parc::rt::peakResidentBytes() << " bytes\n";
    }
    return 0;
  }

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &errorMessage);
  if (!output) {
    emitError(UnknownLoc::get(&context)) << "-o " << outputFile << ": " << errorMessage;
    return 1;
  }
  OpPrintingFlags flags;
  flags.elideLargeResourceString(command.printWeightsUpTo);
  module->print(output->os(), flags);
  output->os() << "\n";
  output->keep();
  return 0;
}
