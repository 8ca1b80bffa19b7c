//===- OnnxTensors.cpp - ONNX tensors to MLIR attributes ------------------===//

#include "OnnxTensors.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

#include <cstring>

using namespace mlir;
using namespace mlir::parc;

FailureOr<Type> mlir::parc::convertOnnxElementType(MLIRContext *context,
                                                   int32_t dataType,
                                                   std::string &reason) {
  Builder b(context);
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  default:
    break;
  }
  std::string name = onnx::TensorProto::DataType_IsValid(dataType)
                         ? onnx::TensorProto::DataType_Name(
                               static_cast<onnx::TensorProto::DataType>(dataType))
                         : "data type " + std::to_string(dataType);
  reason = "element type " + name +
           " is not supported (parc handles float, float16, bfloat16, int64, "
           "int32 and bool)";
  return failure();
}

OnnxTensorReader::OnnxTensorReader(MLIRContext *context,
                                   std::shared_ptr<onnx::ModelProto> model,
                                   std::string modelDirectory, bool allowMissingWeights)
    : context(context), model(std::move(model)),
      modelDirectory(std::move(modelDirectory)), allowMissingWeights(allowMissingWeights) {}

/// Whether an external data location names a file inside the model's folder (ONNX's checker
/// refuses others too): not absolute, no `..`.
static bool isInsideModelFolder(StringRef location) {
  return !llvm::sys::path::is_absolute(location) &&
         !llvm::is_contained(llvm::make_range(llvm::sys::path::begin(location),
                                              llvm::sys::path::end(location)),
                             "..");
}

/// Whether `tensor` is external data whose file does not exist.
static bool externalFileMissing(const onnx::TensorProto &tensor, StringRef modelDirectory) {
  if (tensor.data_location() != onnx::TensorProto::EXTERNAL)
    return false;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data())
    if (entry.key() == "location") {
      if (!isInsideModelFolder(entry.value()))
        return false; // refused by rawBytes
      llvm::SmallString<256> path(modelDirectory);
      llvm::sys::path::append(path, entry.value());
      return !llvm::sys::fs::exists(path);
    }
  return false;
}

FailureOr<int64_t> mlir::parc::boundedTensorBytes(ArrayRef<int64_t> shape,
                                                  int64_t elementBytes, std::string &reason) {
  int64_t bytes = elementBytes;
  bool tooLarge = false;
  for (int64_t dim : shape) {
    if (dim < 0) {
      reason = "has a negative dimension";
      return failure();
    }
    tooLarge |= __builtin_mul_overflow(bytes, dim, &bytes) || bytes > kMaxTensorBytes;
  }
  // A zero dim anywhere makes the tensor empty, whatever the others.
  if (tooLarge && !llvm::is_contained(shape, 0)) {
    std::string dims;
    for (int64_t dim : shape)
      dims += (dims.empty() ? "" : "x") + std::to_string(dim);
    reason = "of shape " + dims + " is too large (over 2^56 bytes)";
    return failure();
  }
  return tooLarge ? int64_t(0) : bytes;
}

FailureOr<RankedTensorType>
OnnxTensorReader::getType(const onnx::TensorProto &tensor,
                          std::string &reason) const {
  FailureOr<Type> element =
      convertOnnxElementType(context, tensor.data_type(), reason);
  if (failed(element))
    return failure();
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  if (failed(boundedTensorBytes(shape, getElementStorageBytes(*element), reason)))
    return failure();
  return RankedTensorType::get(shape, *element);
}

/// Parses a non-negative integer of an external_data entry; failure names the key.
static FailureOr<int64_t> externalDataInteger(const onnx::StringStringEntryProto &entry,
                                              std::string &reason) {
  int64_t value = 0;
  if (StringRef(entry.value()).getAsInteger(10, value) || value < 0) {
    reason = "external data " + entry.key() + " '" + entry.value() +
             "' is not a non-negative integer";
    return failure();
  }
  return value;
}

/// Copies a typed repeated field into little-endian bytes of `element`.
static std::shared_ptr<std::vector<char>>
typedFieldBytes(const onnx::TensorProto &tensor, Type element) {
  auto bytes = std::make_shared<std::vector<char>>();
  auto append = [&](auto value) {
    const char *p = reinterpret_cast<const char *>(&value);
    bytes->insert(bytes->end(), p, p + sizeof(value));
  };
  if (element.isF32()) {
    for (float v : tensor.float_data())
      append(v);
  } else if (element.isInteger(64)) {
    for (int64_t v : tensor.int64_data())
      append(v);
  } else if (element.isInteger(32)) {
    for (int32_t v : tensor.int32_data())
      append(v);
  } else if (element.isInteger(1)) {
    for (int32_t v : tensor.int32_data())
      append(static_cast<uint8_t>(v != 0));
  } else {
    // float16 and bfloat16 keep their 16-bit patterns in int32_data.
    for (int32_t v : tensor.int32_data())
      append(static_cast<uint16_t>(v));
  }
  return bytes;
}

FailureOr<ArrayRef<char>>
OnnxTensorReader::rawBytes(const onnx::TensorProto &tensor,
                           std::shared_ptr<void> &owner,
                           std::string &reason) const {
  FailureOr<RankedTensorType> type = getType(tensor, reason);
  if (failed(type))
    return failure();
  FailureOr<int64_t> expectedBytes =
      boundedTensorBytes(type->getShape(), getElementStorageBytes(type->getElementType()), reason);
  if (failed(expectedBytes))
    return failure();
  int64_t expected = *expectedBytes;

  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
      if (entry.key() == "location") {
        location = entry.value();
      } else if (entry.key() == "offset" || entry.key() == "length") {
        FailureOr<int64_t> value = externalDataInteger(entry, reason);
        if (failed(value))
          return failure();
        (entry.key() == "offset" ? offset : length) = *value;
      }
    }
    if (location.empty()) {
      reason = "external data has no location";
      return failure();
    }
    if (!isInsideModelFolder(location)) {
      reason = "external data location '" + location +
               "' must be a path inside the model's folder";
      return failure();
    }
    llvm::SmallString<256> path(modelDirectory);
    llvm::sys::path::append(path, location);
    if (length < 0)
      length = expected;
    if (length != expected) {
      reason = "external data holds " + std::to_string(length) + " bytes, expected " +
               std::to_string(expected);
      return failure();
    }
    uint64_t fileSize = 0;
    if (llvm::sys::fs::file_size(path, fileSize)) {
      reason = "external data file '" + std::string(path) + "' is missing or unreadable";
      return failure();
    }
    if (static_cast<uint64_t>(offset) > fileSize ||
        static_cast<uint64_t>(length) > fileSize - static_cast<uint64_t>(offset)) {
      reason = "external data file '" + std::string(path) + "' is too short (" +
               std::to_string(fileSize) + " bytes) for bytes " +
               std::to_string(offset) + " + " + std::to_string(length);
      return failure();
    }
    if (length == 0)
      return ArrayRef<char>();
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFileSlice(path, length, offset,
                                         /*IsVolatile=*/false);
    if (!buffer) {
      reason = "cannot map external data file '" + std::string(path) +
               "': " + buffer.getError().message();
      return failure();
    }
    std::shared_ptr<llvm::MemoryBuffer> mapped = std::move(*buffer);
    ArrayRef<char> bytes(mapped->getBufferStart(), mapped->getBufferSize());
    owner = mapped;
    return bytes;
  }

  if (tensor.has_raw_data()) {
    const std::string &raw = tensor.raw_data();
    if (static_cast<int64_t>(raw.size()) != expected) {
      reason = "holds " + std::to_string(raw.size()) + " bytes of data, expected " +
               std::to_string(expected);
      return failure();
    }
    return ArrayRef<char>(raw.data(), raw.size());
  }

  std::shared_ptr<std::vector<char>> bytes =
      typedFieldBytes(tensor, type->getElementType());
  if (static_cast<int64_t>(bytes->size()) != expected) {
    reason = "holds " + std::to_string(bytes->size() / getElementStorageBytes(type->getElementType())) +
             " values, expected " + std::to_string(type->getNumElements());
    return failure();
  }
  owner = bytes;
  return ArrayRef<char>(bytes->data(), bytes->size());
}

FailureOr<DenseElementsAttr>
OnnxTensorReader::readDense(const onnx::TensorProto &tensor,
                            std::string &reason) const {
  FailureOr<RankedTensorType> type = getType(tensor, reason);
  if (failed(type))
    return failure();
  std::shared_ptr<void> owner;
  FailureOr<ArrayRef<char>> bytes = rawBytes(tensor, owner, reason);
  if (failed(bytes))
    return failure();
  if (type->getElementType().isInteger(1)) {
    SmallVector<bool> values;
    for (char c : *bytes)
      values.push_back(c != 0);
    return DenseElementsAttr::get(*type, values);
  }
  return DenseElementsAttr::getFromRawBuffer(*type, *bytes);
}

FailureOr<ElementsAttr>
OnnxTensorReader::readResource(const onnx::TensorProto &tensor,
                               StringRef blobName, std::string &reason) const {
  FailureOr<RankedTensorType> type = getType(tensor, reason);
  if (failed(type))
    return failure();
  if (allowMissingWeights && externalFileMissing(tensor, modelDirectory)) {
    // A handle without a blob: the shape is known, the bytes are not (printed as
    // dense_resource<__elided__>); nothing that plans reads them.
    auto &manager = DenseResourceElementsHandle::getManagerInterface(context);
    return cast<ElementsAttr>(DenseResourceElementsAttr::get(*type, manager.insert(blobName)));
  }
  std::shared_ptr<void> owner;
  FailureOr<ArrayRef<char>> bytes = rawBytes(tensor, owner, reason);
  if (failed(bytes))
    return failure();
  size_t alignment = std::max<int64_t>(1, getElementStorageBytes(type->getElementType()));
  AsmResourceBlob blob;
  if (reinterpret_cast<uintptr_t>(bytes->data()) % alignment != 0) {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(*bytes, alignment,
                                                        /*dataIsMutable=*/false);
  } else {
    // The blob points into memory kept alive by the model (raw_data) or by `owner`.
    std::shared_ptr<void> keepAlive = owner ? owner : std::shared_ptr<void>(model);
    blob = UnmanagedAsmResourceBlob::allocateWithAlign(
        *bytes, alignment,
        [keepAlive](void *, size_t, size_t) mutable { keepAlive.reset(); });
  }
  return cast<ElementsAttr>(
      DenseResourceElementsAttr::get(*type, blobName, std::move(blob)));
}
