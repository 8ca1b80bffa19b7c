//===- OnnxTensors.h - ONNX tensors to MLIR attributes ----------*- C++ -*-===//
//
// Converts ONNX element types and TensorProtos (inline, typed-field or external data) into
// MLIR types and attributes. Large tensors become dense resources that point into the parsed
// model's memory or into a mapping of the external data file, so no weight is copied.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_LIB_IMPORT_ONNXTENSORS_H
#define PARC_LIB_IMPORT_ONNXTENSORS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <memory>
#include <string>

namespace onnx {
class ModelProto;
class TensorProto;
} // namespace onnx

namespace mlir::parc {

/// The MLIR element type of an ONNX TensorProto data type, or failure with `reason` set.
FailureOr<Type> convertOnnxElementType(MLIRContext *context, int32_t dataType,
                                       std::string &reason);

/// The largest tensor parc imports, in bytes (2^56, 64 PiB): larger shapes are refused
/// naming the tensor, so that no size computed from a shape later overflows.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 56;

/// The bytes of a tensor of `shape` with `elementBytes`-byte elements, or failure with
/// `reason` set for a negative dim or a size over kMaxTensorBytes.
FailureOr<int64_t> boundedTensorBytes(ArrayRef<int64_t> shape, int64_t elementBytes,
                                      std::string &reason);

/// Reads TensorProtos of one model, resolving external data relative to the model's folder.
class OnnxTensorReader {
public:
  /// With `allowMissingWeights`, a weight whose external data file is absent becomes a
  /// dense resource without bytes (planning only: --plan-only, --random-weights).
  OnnxTensorReader(MLIRContext *context, std::shared_ptr<onnx::ModelProto> model,
                   std::string modelDirectory, bool allowMissingWeights = false);

  /// The tensor's type.
  FailureOr<RankedTensorType> getType(const onnx::TensorProto &tensor,
                                      std::string &reason) const;

  /// The tensor as a DenseElementsAttr (for constants that folding may look into).
  FailureOr<DenseElementsAttr> readDense(const onnx::TensorProto &tensor,
                                         std::string &reason) const;

  /// The tensor as a dense resource named after `blobName` that refers to the model's
  /// memory without copying it (copying only when the bytes are misaligned or typed fields).
  FailureOr<ElementsAttr> readResource(const onnx::TensorProto &tensor,
                                       llvm::StringRef blobName,
                                       std::string &reason) const;

private:
  /// The raw little-endian bytes of the tensor (inline or mapped from external data), with
  /// the object that keeps them alive; empty `owner` means they live in the model.
  FailureOr<ArrayRef<char>> rawBytes(const onnx::TensorProto &tensor,
                                     std::shared_ptr<void> &owner,
                                     std::string &reason) const;

  MLIRContext *context;
  std::shared_ptr<onnx::ModelProto> model;
  std::string modelDirectory;
  bool allowMissingWeights;
};

} // namespace mlir::parc

#endif // PARC_LIB_IMPORT_ONNXTENSORS_H
