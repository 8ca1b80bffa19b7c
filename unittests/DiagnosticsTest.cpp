//===- DiagnosticsTest.cpp - tests of one-line diagnostics ----------------===//

#include "parc/Support/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::parc;

namespace {

TEST(DiagnosticsTest, NodeLocationsNameFileAndNode) {
  MLIRContext context;
  Location file = FileLineColLoc::get(&context, "model.onnx", 0, 0);
  Location node = NameLoc::get(StringAttr::get(&context, "/h.0/MatMul"), file);
  EXPECT_EQ(describeLocation(file), "model.onnx");
  EXPECT_EQ(describeLocation(node), "model.onnx: node '/h.0/MatMul'");
  EXPECT_EQ(describeLocation(FileLineColLoc::get(&context, "a.mlir", 3, 7)),
            "a.mlir:3:7");
  EXPECT_EQ(describeLocation(UnknownLoc::get(&context)), "");
}

TEST(DiagnosticsTest, PrintsOneLinePerDiagnostic) {
  MLIRContext context;
  std::string text;
  llvm::raw_string_ostream os(text);
  {
    OneLineDiagnosticHandler handler(&context, "parc-test", os);
    Location node = NameLoc::get(StringAttr::get(&context, "relu"),
                                 FileLineColLoc::get(&context, "m.onnx", 0, 0));
    emitError(node) << "something is wrong";
    emitError(UnknownLoc::get(&context)) << "--flag: bad";
  }
  EXPECT_EQ(text, "parc-test: error: m.onnx: node 'relu': something is wrong\n"
                  "parc-test: error: --flag: bad\n");
}

} // namespace
