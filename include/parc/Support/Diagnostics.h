//===- Diagnostics.h - one-line diagnostics for parc tools ------*- C++ -*-===//
//
// parc's tools report every problem as one line that names the cause: the model file and
// ONNX node (`model.onnx: node '/h.0/attn/MatMul': error: ...`), the flag, or the file.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_SUPPORT_DIAGNOSTICS_H
#define PARC_SUPPORT_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::parc {

/// Renders a location as `file: node 'name'`, `file:line:col`, or `file`.
std::string describeLocation(Location loc);

/// Prints each diagnostic of `context` to `os` as one line prefixed by `toolName`.
class OneLineDiagnosticHandler : public ScopedDiagnosticHandler {
public:
  OneLineDiagnosticHandler(MLIRContext *context, llvm::StringRef toolName,
                           llvm::raw_ostream &os = llvm::errs());
};

} // namespace mlir::parc

#endif // PARC_SUPPORT_DIAGNOSTICS_H
