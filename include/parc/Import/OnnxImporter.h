//===- OnnxImporter.h - ONNX model to parc dialect --------------*- C++ -*-===//
//
// Imports an ONNX model file into a module of the parc dialect: one `func.func @main` whose
// arguments and results are the graph's inputs and outputs, and one `parc.weight` per used
// initializer, backed by the model's own memory (or its external data files, mapped).
// Shape arithmetic is folded while importing; node names become op locations.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_IMPORT_ONNXIMPORTER_H
#define PARC_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::parc {

/// The oldest and newest ONNX opsets (default domain) the importer accepts.
constexpr int64_t kMinOnnxOpset = 13;
constexpr int64_t kMaxOnnxOpset = 28;

/// Options of an import.
struct OnnxImportOptions {
  /// Full shapes for graph inputs, binding their symbolic dims (`--input-shape NAME=2x128`).
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Weights whose external data file is absent are imported by shape alone, without
  /// bytes (`--plan-only`, `--random-weights`); otherwise that is an error.
  bool allowMissingWeights = false;
};

/// Imports the model at `path`. On failure, emits diagnostics (each naming the model file and,
/// where there is one, the ONNX node) and returns a null module.
OwningOpRef<ModuleOp> importOnnxModel(MLIRContext &context, llvm::StringRef path,
                                      const OnnxImportOptions &options);

/// Imports a model held in memory as if it were the file at `path` (diagnostics name
/// `path`; external data is looked up beside it). For fuzzing and embedding.
OwningOpRef<ModuleOp> importOnnxModelBytes(MLIRContext &context, llvm::StringRef bytes,
                                           llvm::StringRef path,
                                           const OnnxImportOptions &options);

/// The ONNX operator types (default domain) the importer converts.
llvm::SmallVector<llvm::StringRef> getSupportedOnnxOps();

} // namespace mlir::parc

#endif // PARC_IMPORT_ONNXIMPORTER_H
