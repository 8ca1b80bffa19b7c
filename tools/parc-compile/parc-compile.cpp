//===- parc-compile.cpp - the parc compiler driver ------------------------===//
//
// Imports an ONNX model and compiles it. `--emit=` stops after a stage and prints it, as
// Toy's toyc does, so every stage can be inspected:
//   --emit=parc   the imported module after canonicalization (shape arithmetic folded)
//
//===----------------------------------------------------------------------===//

#include "parc/Import/OnnxImporter.h"
#include "parc/Support/Diagnostics.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace mlir::parc;
namespace cl = llvm::cl;

static cl::OptionCategory parcCategory("parc-compile options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required, cl::cat(parcCategory));
static cl::opt<std::string> outputFile("o", cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(parcCategory));

enum class EmitStage { Parc };
static cl::opt<EmitStage> emitStage(
    "emit", cl::desc("The stage to stop after and print"),
    cl::values(clEnumValN(EmitStage::Parc, "parc",
                          "the imported, canonicalized parc module")),
    cl::init(EmitStage::Parc), cl::cat(parcCategory));

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

/// Parses `NAME=2x128` into the options; reports a malformed value.
static LogicalResult parseInputShape(StringRef text, OnnxImportOptions &options,
                                     MLIRContext &context) {
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
    return emitError(UnknownLoc::get(&context))
           << "--input-shape '" << text
           << "': expected NAME=DIMS such as input_ids=2x128";
  if (options.inputShapes.count(name))
    return emitError(UnknownLoc::get(&context))
           << "--input-shape gives '" << name << "' twice";
  options.inputShapes[name] = shape;
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  cl::HideUnrelatedOptions(parcCategory);
  cl::ParseCommandLineOptions(argc, argv, "parc compiler\n");

  MLIRContext context;
  OneLineDiagnosticHandler diagnostics(&context, "parc-compile");

  OnnxImportOptions options;
  for (const std::string &text : inputShapes)
    if (failed(parseInputShape(text, options, context)))
      return 1;

  OwningOpRef<ModuleOp> module = importOnnxModel(context, inputFile, options);
  if (!module)
    return 1;

  PassManager pm(&context);
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (failed(pm.run(*module)))
    return 1;

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &errorMessage);
  if (!output) {
    emitError(UnknownLoc::get(&context)) << "-o " << outputFile << ": " << errorMessage;
    return 1;
  }
  OpPrintingFlags flags;
  flags.elideLargeResourceString(printWeightsUpTo);
  module->print(output->os(), flags);
  output->os() << "\n";
  output->keep();
  return 0;
}
