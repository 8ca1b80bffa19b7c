//===- GraphImporter.h - walking an ONNX graph ------------------*- C++ -*-===//
//
// Walks the nodes of an ONNX graph in order, keeps the map from ONNX value names to MLIR
// values, creates weights lazily on first use, and runs each node's converter.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_IMPORT_GRAPHIMPORTER_H
#define PARC_LIB_IMPORT_GRAPHIMPORTER_H

#include "NodeImporter.h"
#include "OnnxTensors.h"

#include "parc/Import/OnnxImporter.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"

namespace onnx {
class GraphProto;
class ModelProto;
} // namespace onnx

namespace mlir::parc {

/// Imports the main graph of one model into a module.
class GraphImporter {
public:
  GraphImporter(MLIRContext *context, std::shared_ptr<onnx::ModelProto> model,
                std::string modelPath, int64_t opset,
                const OnnxImportOptions &options);

  /// Fills `module` with the graph's function and weights.
  LogicalResult importInto(ModuleOp module);

  int64_t getOpset() const { return opset; }
  const OnnxTensorReader &getTensorReader() const { return tensors; }
  /// The MLIR value of an ONNX value name, creating a weight or constant for initializers.
  FailureOr<Value> lookup(StringRef name, NodeImporter &user);
  void define(StringRef name, Value value) { values[name] = value; }
  /// A location naming an ONNX node of this model.
  Location nodeLoc(StringRef name);
  /// The location of the model file itself (for graph inputs, outputs, initializers).
  Location fileLoc();

private:
  LogicalResult checkOperatorsSupported(const onnx::GraphProto &graph);
  LogicalResult importInputs(const onnx::GraphProto &graph, OpBuilder &builder,
                             func::FuncOp &function, ModuleOp module);
  FailureOr<Value> importInitializer(const onnx::TensorProto &tensor,
                                     Location loc);

  MLIRContext *context;
  std::shared_ptr<onnx::ModelProto> model;
  std::string modelPath;
  int64_t opset;
  const OnnxImportOptions &options;
  OnnxTensorReader tensors;
  llvm::StringMap<OpConverter> converters;
  llvm::StringMap<Value> values;
  llvm::StringMap<const onnx::TensorProto *> initializers;
  ModuleOp module;
  OpBuilder builder;
};

} // namespace mlir::parc

#endif // PARC_LIB_IMPORT_GRAPHIMPORTER_H
