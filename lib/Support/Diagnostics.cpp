//===- Diagnostics.cpp - one-line diagnostics for parc tools --------------===//

#include "parc/Support/Diagnostics.h"

#include "parc/Runtime/Status.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"

using namespace mlir;
using namespace mlir::parc;

std::string mlir::parc::describeLocation(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    std::string child = describeLocation(name.getChildLoc());
    std::string node = "node '" + name.getName().str() + "'";
    return child.empty() ? node : child + ": " + node;
  }
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    std::string text = file.getFilename().str();
    if (file.getLine() != 0)
      text += ":" + std::to_string(file.getLine()) + ":" +
              std::to_string(file.getColumn());
    return text;
  }
  if (auto fused = dyn_cast<FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return describeLocation(fused.getLocations().front());
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return describeLocation(callSite.getCallee());
  return "";
}

static llvm::StringRef severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Remark:
    return "remark";
  case DiagnosticSeverity::Note:
    return "note";
  }
  return "error";
}

OneLineDiagnosticHandler::OneLineDiagnosticHandler(MLIRContext *context,
                                                   llvm::StringRef toolName,
                                                   llvm::raw_ostream &os)
    : ScopedDiagnosticHandler(context) {
  std::string tool = toolName.str();
  setHandler([tool, &os](Diagnostic &diag) {
    auto print = [&](Diagnostic &d) {
      std::string line = severityName(d.getSeverity()).str() + ": ";
      std::string where = describeLocation(d.getLocation());
      if (!where.empty())
        line += where + ": ";
      line += d.str();
      os << tool << ": " << ::parc::rt::printableOneLine(line) << "\n";
    };
    print(diag);
    for (Diagnostic &note : diag.getNotes())
      print(note);
    os.flush();
    return success();
  });
}
