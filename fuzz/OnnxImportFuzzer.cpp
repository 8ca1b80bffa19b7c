//===- OnnxImportFuzzer.cpp - fuzz the ONNX importer ----------------------===//
//
// Input: the bytes of an .onnx file. They go the way parc-compile --emit=parc takes a
// model: ModelProto, the opset lift, the import into the parc dialect, the verifier, then
// the canonicalization that folds shape arithmetic. Each step must succeed or fail with
// at least one error (naming the model, the node). The model lies in a folder
// that does not exist, so external data is never found (and never read from elsewhere).
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "parc/Import/OnnxImporter.h"
#include "parc/Pipeline/CompilePipeline.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::parc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  MLIRContext context(MLIRContext::Threading::DISABLED);
  context.printOpOnDiagnostic(false);
  std::vector<std::string> errors;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    if (diagnostic.getSeverity() == DiagnosticSeverity::Error)
      errors.push_back(diagnostic.str());
    return success();
  });
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  OnnxImportOptions options;
  OwningOpRef<ModuleOp> module =
      importOnnxModelBytes(context, bytes, "/nonexistent-parc-fuzz/model.onnx", options);
  if (!module) {
    FUZZ_CHECK(!errors.empty(), "the import failed without an error");
    for (const std::string &error : errors)
      FUZZ_CHECK(::parc::fuzz::isErrorMessage(error), error);
    ::parc::fuzz::refused();
    return 0;
  }
  FUZZ_CHECK(errors.empty(), errors.front());
  PassManager pm(&context);
  buildCompilePipeline(pm, CompileOptions(), CompileStage::Imported);
  if (failed(pm.run(*module))) {
    FUZZ_CHECK(!errors.empty(), "canonicalization failed without an error");
    for (const std::string &error : errors)
      FUZZ_CHECK(::parc::fuzz::isErrorMessage(error), error);
    ::parc::fuzz::refused();
    return 0;
  }
  ::parc::fuzz::accepted();
  return 0;
}
