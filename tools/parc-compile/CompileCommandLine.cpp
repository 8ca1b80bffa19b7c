//===- CompileCommandLine.cpp - parc-compile's flags, parsed and checked --===//

#include "CompileCommandLine.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"

using namespace mlir;
using namespace mlir::parc;
namespace cl = llvm::cl;

static cl::OptionCategory parcCategory("parc-compile options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::cat(parcCategory));
static cl::opt<bool> printSupportedOps(
    "print-supported-ops",
    cl::desc("Print the ONNX operators parc imports, one per line, and exit"),
    cl::init(false), cl::cat(parcCategory));
static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(parcCategory));

static cl::opt<EmitStage> emitStage(
    "emit", cl::desc("The stage to stop after and print"),
    cl::values(clEnumValN(EmitStage::Parc, "parc",
                          "the imported, canonicalized parc module"),
               clEnumValN(EmitStage::Partitioned, "partitioned",
                          "after tensor and pipeline partitioning (collectives, send/recv visible)"),
               clEnumValN(EmitStage::Fused, "fused",
                          "after fusion: parc.fused regions, one kernel each"),
               clEnumValN(EmitStage::Cuda, "cuda",
                          "the CUDA C++ of every generated kernel (--target=cuda)"),
               clEnumValN(EmitStage::Planned, "planned",
                          "the module after buffer planning"),
               clEnumValN(EmitStage::Artifact, "artifact",
                          "the .parc artifact for parc-run (default)")),
    cl::init(EmitStage::Artifact), cl::cat(parcCategory));

static cl::opt<std::string> target(
    "target", cl::desc("The device to compile for: cpu, or cuda (fused regions become CUDA "
                       "kernels compiled with NVRTC)"),
    cl::value_desc("cpu|cuda"), cl::init("cpu"), cl::cat(parcCategory));
static cl::opt<std::string> cudaArch(
    "cuda-arch", cl::desc("The GPU architecture the kernels are compiled for (--target=cuda)"),
    cl::value_desc("sm_XY"), cl::init("sm_90"), cl::cat(parcCategory));

static cl::opt<std::string> tensorParallel(
    "tp", cl::desc("Tensor-parallel ranks: parc chooses how to split every weight"),
    cl::value_desc("N|auto"), cl::init("1"), cl::cat(parcCategory));

static cl::opt<std::string> dataParallel(
    "dp", cl::desc("Data-parallel ranks: each takes 1/N of the batch (training averages "
                   "gradients over them)"),
    cl::value_desc("N|auto"), cl::init("1"), cl::cat(parcCategory));

static cl::opt<std::string> pipelineParallel(
    "pp", cl::desc("Pipeline stages: parc cuts the model into N stages of even modelled time"),
    cl::value_desc("N|auto"), cl::init("1"), cl::cat(parcCategory));

static cl::opt<std::string> microbatchCount(
    "microbatches",
    cl::desc("Split the batch (dim 0 of the inputs) into M microbatches that flow through "
             "the pipeline"),
    cl::value_desc("M|auto"), cl::init("1"), cl::cat(parcCategory));

static cl::opt<std::string> scheduleName(
    "schedule", cl::desc("Pipeline schedule: gpipe or 1f1b (the default)"),
    cl::value_desc("gpipe|1f1b"), cl::init("1f1b"), cl::cat(parcCategory));

static cl::opt<std::string> virtualStages(
    "virtual-stages",
    cl::desc("Model chunks per pipeline stage (interleaved 1F1B; needs --schedule=1f1b)"),
    cl::value_desc("V|auto"), cl::init("1"), cl::cat(parcCategory));

static cl::opt<std::string> memoryLimit(
    "memory-limit",
    cl::desc("Weight bytes one pipeline rank may hold, e.g. 512MiB or 2GB (default: none)"),
    cl::value_desc("SIZE"), cl::init(""), cl::cat(parcCategory));

static cl::opt<bool> train(
    "train", cl::desc("Compile a training step: loss, backward pass and optimizer update"),
    cl::init(false), cl::cat(parcCategory));
static cl::opt<std::string> lossName("loss", cl::desc("Training loss: cross_entropy or mse"),
                                     cl::value_desc("cross_entropy|mse"),
                                     cl::init("cross_entropy"), cl::cat(parcCategory));
static cl::opt<std::string> optimizerName("optimizer", cl::desc("Optimizer: sgd or adamw"),
                                          cl::value_desc("sgd|adamw"), cl::init("sgd"),
                                          cl::cat(parcCategory));
static cl::opt<double> learningRate("lr", cl::desc("Learning rate"), cl::init(1e-3),
                                    cl::cat(parcCategory));
static cl::opt<double> momentum("momentum", cl::desc("SGD momentum"), cl::init(0.0),
                                cl::cat(parcCategory));
static cl::opt<double> weightDecay("weight-decay", cl::desc("Weight decay (SGD: L2; AdamW: decoupled)"),
                                   cl::init(0.0), cl::cat(parcCategory));
static cl::opt<double> beta1("beta1", cl::desc("AdamW beta1"), cl::init(0.9),
                             cl::cat(parcCategory));
static cl::opt<double> beta2("beta2", cl::desc("AdamW beta2"), cl::init(0.999),
                             cl::cat(parcCategory));
static cl::opt<double> epsilon("eps", cl::desc("AdamW epsilon"), cl::init(1e-8),
                               cl::cat(parcCategory));

static cl::opt<int64_t> zeroStage(
    "zero",
    cl::desc("ZeRO stage for data parallelism: 1 shards the optimizer state over the dp "
             "ranks (reduce-scatter of the gradients, all-gather of the updated weights)"),
    cl::value_desc("0|1"), cl::init(0), cl::cat(parcCategory));
static cl::opt<std::string> bucketSize(
    "bucket-size",
    cl::desc("Data parallelism: gradient bytes per all-reduce bucket, each started as soon "
             "as the backward pass completed it (default 25MiB; 0: one blocking all-reduce "
             "per gradient after the backward pass)"),
    cl::value_desc("SIZE"), cl::init("25MiB"), cl::cat(parcCategory));
static cl::opt<std::string> recomputeName(
    "recompute",
    cl::desc("Activations the backward pass recomputes instead of keeping: none, full (each "
             "stage's forward from its inputs), selective (attention scores and softmax) "
             "or auto (the least recomputation under --memory-budget)"),
    cl::value_desc("none|full|selective|auto"), cl::init("none"), cl::cat(parcCategory));
static cl::opt<std::string> memoryBudget(
    "memory-budget",
    cl::desc("Activation bytes one rank may keep for the backward pass (--recompute=auto), "
             "e.g. 64MiB"),
    cl::value_desc("SIZE"), cl::init(""), cl::cat(parcCategory));

static cl::opt<bool> quiet(
    "quiet",
    cl::desc("Print no progress (the stages as they finish, on standard error)"),
    cl::init(false), cl::cat(parcCategory));

static cl::opt<bool> randomWeights(
    "random-weights",
    cl::desc("Store no weight bytes: parc-run fills every weight with seeded pseudo-random "
             "values (benchmarks of models too large to copy where they run)"),
    cl::init(false), cl::cat(parcCategory));

static cl::opt<int64_t> deviceCount(
    "devices",
    cl::desc("Search the layout for N devices: dp x pp x tp = N, the microbatches, schedule, "
             "recompute and ZeRO, priced on --cluster (default cpu-local); a degree given "
             "as a number is kept"),
    cl::value_desc("N"), cl::init(0), cl::cat(parcCategory));
static cl::opt<bool> planOnly(
    "plan-only",
    cl::desc("Plan and report without writing an artifact (no -o needed; weights may be "
             "absent external data)"),
    cl::init(false), cl::cat(parcCategory));
static cl::opt<std::string> planJson(
    "plan-json", cl::desc("Write the chosen layout and the candidates as JSON"),
    cl::value_desc("FILE"), cl::cat(parcCategory));
static cl::opt<std::string> mixedPrecision(
    "mixed-precision",
    cl::desc("Plan for 16-bit mixed precision (f32 master weights and optimizer state): "
             "understood by the planner (--plan-only); not yet compiled"),
    cl::value_desc("f16|bf16"), cl::cat(parcCategory));

static cl::opt<bool> printReport(
    "report", cl::desc("Print the plan: memory per rank and program sizes"),
    cl::init(false), cl::cat(parcCategory));

static cl::opt<std::string> clusterName(
    "cluster",
    cl::desc("The machine profile plans are priced on: dgx-a100, dgx-h100, cpu-local "
             "(this machine, measured by parc-calibrate on first use) or a profile file"),
    cl::value_desc("NAME|FILE"), cl::cat(parcCategory));

static cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Bind the symbolic dims of a graph input: NAME=DIMxDIM..., e.g. "
             "input_ids=2x128 (repeatable)"),
    cl::value_desc("NAME=DIMS"), cl::cat(parcCategory));

static cl::opt<int64_t> printWeightsUpTo(
    "print-weights-up-to",
    cl::desc("Print weight bytes of weights up to this size; larger ones are "
             "printed as dense_resource<__elided__>"),
    cl::value_desc("bytes"), cl::init(1024), cl::cat(parcCategory));

/// Parses `NAME=2x128` into the options; an error says what is malformed.
static llvm::Error parseInputShape(StringRef text, OnnxImportOptions &options) {
  auto [name, dims] = text.rsplit('=');
  SmallVector<int64_t> shape;
  bool valid = !name.empty() && !dims.empty() && text.contains('=');
  if (valid && dims != "scalar") {
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef part : parts) {
      int64_t dim;
      if (part.getAsInteger(10, dim) || dim < 0) {
        valid = false;
        break;
      }
      shape.push_back(dim);
    }
  }
  if (!valid)
    return llvm::createStringError("--input-shape '" + text +
                                   "': expected NAME=DIMS such as input_ids=2x128");
  if (options.inputShapes.count(name))
    return llvm::createStringError("--input-shape gives '" + name + "' twice");
  options.inputShapes[name] = shape;
  return llvm::Error::success();
}

/// Parses `512MiB`, `2GB`, `1.5G` or plain bytes; none for a malformed size or one that
/// does not fit in 63 bits.
static std::optional<int64_t> parseByteSize(StringRef text) {
  StringRef number = text.take_while([](char c) { return llvm::isDigit(c) || c == '.'; });
  StringRef unit = text.drop_front(number.size());
  double value;
  if (number.empty() || number.getAsDouble(value))
    return std::nullopt;
  std::string lower = unit.lower();
  static const std::pair<const char *, double> units[] = {
      {"", 1},          {"b", 1},          {"k", 1024},       {"kib", 1024},
      {"kb", 1e3},      {"m", 1 << 20},    {"mib", 1 << 20},  {"mb", 1e6},
      {"g", 1ull << 30}, {"gib", 1ull << 30}, {"gb", 1e9}};
  for (auto [name, scale] : units)
    if (lower == name) {
      double bytes = value * scale;
      // 2^63 is the first double past int64_t's range.
      if (!(bytes < 9223372036854775808.0))
        return std::nullopt;
      return static_cast<int64_t>(bytes);
    }
  return std::nullopt;
}

bool mlir::parc::parseCompileFlags(int argc, const char *const *argv,
                                   llvm::raw_ostream *errors) {
  cl::ResetAllOptionOccurrences();
  cl::HideUnrelatedOptions(parcCategory);
  return cl::ParseCommandLineOptions(argc, argv, "parc compiler\n", errors);
}

llvm::Expected<CompileCommand> mlir::parc::readCompileCommand() {
  auto fail = [](const std::string &message) -> llvm::Error {
    return llvm::createStringError(message);
  };
  CompileCommand command;
  command.inputFile = inputFile;
  command.outputFile = outputFile;
  command.emit = emitStage;
  command.printSupportedOps = printSupportedOps;
  command.printReport = printReport;
  command.planOnly = planOnly;
  command.randomWeights = randomWeights;
  command.quiet = quiet;
  command.cudaArch = cudaArch;
  command.printWeightsUpTo = printWeightsUpTo;
  command.planJson = planJson;
  if (printSupportedOps)
    return command;
  if (inputFile.empty())
    return fail("no model given (parc-compile MODEL.onnx -o OUT.parc)");

  OnnxImportOptions &options = command.import;
  for (const std::string &text : inputShapes)
    if (llvm::Error error = parseInputShape(text, options))
      return std::move(error);

  // The flags as typed options, validated once by the pipeline library.
  CompileOptions &compile = command.compile;
  compile.target = target;
  compile.schedule = scheduleName;
  compile.train = train;
  compile.loss = lossName, compile.optimizer = optimizerName;
  compile.learningRate = learningRate, compile.momentum = momentum;
  compile.weightDecay = weightDecay, compile.beta1 = beta1, compile.beta2 = beta2;
  compile.epsilon = epsilon;
  compile.zero = zeroStage;
  compile.recompute = recomputeName;
  compile.trainingOptionsGiven = lossName.getNumOccurrences() ||
                                 optimizerName.getNumOccurrences() ||
                                 learningRate.getNumOccurrences();
  // A layout degree is a count, or `auto` (chosen by the search, which --devices runs);
  // a count given with --devices is pinned.
  bool searching = deviceCount.getNumOccurrences() > 0;
  command.searching = searching;
  SearchRequest &search = command.search;
  struct DegreeFlag {
    cl::opt<std::string> &flag;
    const char *name;
    int64_t &value;
    std::optional<int64_t> &pinned;
  };
  DegreeFlag degrees[] = {{tensorParallel, "tp", compile.tp, search.tp},
                          {pipelineParallel, "pp", compile.pp, search.pp},
                          {dataParallel, "dp", compile.dp, search.dp},
                          {microbatchCount, "microbatches", compile.microbatches,
                           search.microbatches},
                          {virtualStages, "virtual-stages", compile.virtualStages,
                           search.virtualStages}};
  for (DegreeFlag &degree : degrees) {
    StringRef text = degree.flag;
    if (text == "auto") {
      if (!searching)
        return fail(std::string("--") + degree.name + "=auto needs --devices=N (the layout "
                    "search chooses it)");
      continue;
    }
    if (text.getAsInteger(10, degree.value))
      return fail(std::string("--") + degree.name + "=" + text.str() +
                  ": expected a count, or auto");
    if (degree.flag.getNumOccurrences() || !searching)
      degree.pinned = degree.value;
  }
  if (!memoryLimit.empty()) {
    std::optional<int64_t> bytes = parseByteSize(memoryLimit);
    if (!bytes || *bytes <= 0)
      return fail("--memory-limit=" + memoryLimit + ": expected a size such as 512MiB or 2GB");
    compile.memoryLimit = *bytes;
  }
  std::optional<int64_t> bucketBytes =
      bucketSize == "0" ? std::optional<int64_t>(0) : parseByteSize(bucketSize);
  if (!bucketBytes || *bucketBytes < 0)
    return fail("--bucket-size=" + bucketSize + ": expected a size such as 25MiB, or 0");
  compile.bucketBytes = *bucketBytes;
  if (!memoryBudget.empty()) {
    std::optional<int64_t> bytes = parseByteSize(memoryBudget);
    if (!bytes || *bytes <= 0)
      return fail("--memory-budget=" + memoryBudget + ": expected a size such as 64MiB or 1GB");
    compile.memoryBudget = *bytes;
  }
  // Without --devices the layout is the flags' (validated now); with it, the search's
  // (validated once chosen).
  if (!searching)
    if (std::string problem = validateCompileOptions(compile); !problem.empty())
      return fail(problem);
  if (emitStage == EmitStage::Cuda && target != "cuda")
    return fail("--emit=cuda needs --target=cuda");

  // The search request: --plan-only and --plan-json price the given layout when there is
  // no --devices (every degree pinned).
  bool planning = searching || planOnly || !planJson.empty();
  command.planning = planning;
  if (searching && deviceCount < 1)
    return fail("--devices=" + std::to_string(deviceCount) + ": expected 1 or more");
  if (planOnly && emitStage.getNumOccurrences())
    return fail("--plan-only writes nothing; it does not go with --emit");
  search.devices = searching ? int64_t(deviceCount) : compile.tp * compile.pp * compile.dp;
  search.train = train;
  search.optimizer = optimizerName;
  search.momentum = momentum != 0;
  if (scheduleName.getNumOccurrences() || !searching)
    search.schedule = scheduleName;
  if ((recomputeName.getNumOccurrences() && recomputeName != "auto") || !searching)
    search.recompute = recomputeName == "auto" ? std::string("none") : recomputeName.getValue();
  if (zeroStage.getNumOccurrences() || !searching)
    search.zero = zeroStage;
  if (!mixedPrecision.empty()) {
    std::optional<ComputePrecision> precision = parseComputePrecision(mixedPrecision);
    if (!precision || *precision == ComputePrecision::F32)
      return fail("--mixed-precision=" + mixedPrecision + ": expected f16 or bf16");
    if (!planOnly)
      return fail("--mixed-precision=" + mixedPrecision +
                  " is understood by the planner (--plan-only) but not yet compiled: parc "
                  "runs in f32");
    search.precision = *precision;
  }
  if (!clusterName.empty() || planning) {
    if (!printReport && !planning)
      return fail("--cluster prices the plan for --report, --devices or --plan-only; give "
                  "one of them too");
    command.cluster = clusterName.empty() ? std::string("cpu-local") : clusterName.getValue();
  }
  options.allowMissingWeights = planOnly || randomWeights;
  if (emitStage == EmitStage::Artifact && outputFile == "-" && !planOnly)
    return fail("writing an artifact needs -o FILE.parc (or --emit=parc to print the IR)");
  return command;
}
