//===- OpsetConversion.h - lift models of old opsets ------------*- C++ -*-===//

#ifndef PARC_LIB_IMPORT_OPSETCONVERSION_H
#define PARC_LIB_IMPORT_OPSETCONVERSION_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LogicalResult.h"

#include "parc/Import/OnnxImporter.h"

#include "onnx/onnx_pb.h"

namespace mlir::parc {

/// The oldest opset that libonnx's version converter lifts from, and the opset it lifts
/// to: the oldest one parc's converters read (kMinOnnxOpset).
constexpr int64_t kOldestLiftableOpset = 7;
constexpr int64_t kLiftedOpset = kMinOnnxOpset;

/// Rewrites `model` (of an opset in [kOldestLiftableOpset, kLiftedOpset)) to opset
/// kLiftedOpset; on failure reports at `fileLoc`, naming the operator that cannot be
/// converted, and leaves `model` unchanged.
LogicalResult liftToSupportedOpset(onnx::ModelProto &model, Location fileLoc);

} // namespace mlir::parc

#endif // PARC_LIB_IMPORT_OPSETCONVERSION_H
