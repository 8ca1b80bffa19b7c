//===- ParcShapeInference.h - result types of parc ops ----------*- C++ -*-===//
//
// Computes the result type of each shape-changing parc op from its operand types and
// attributes. The op verifiers check their result types against these functions and the ONNX
// importer uses them to type the ops it builds, so both agree by construction. Each function
// reports a problem through the given emitter (at the op, or at the user's ONNX node).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCSHAPEINFERENCE_H
#define PARC_DIALECT_PARC_IR_PARCSHAPEINFERENCE_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::parc {

/// Creates a diagnostic at the place a problem should be reported.
using ErrorEmitter = llvm::function_ref<InFlightDiagnostic()>;

/// The numpy broadcast of the given shapes.
FailureOr<SmallVector<int64_t>>
inferBroadcastShape(ArrayRef<ArrayRef<int64_t>> shapes, ErrorEmitter emitError);

/// `[..., m, k] x [..., k, n] -> [..., m, n]` with broadcast batch dims.
FailureOr<RankedTensorType> inferMatMulType(RankedTensorType lhs,
                                            RankedTensorType rhs,
                                            ErrorEmitter emitError);

/// The result of reducing `axes` (sorted, distinct, non-negative).
FailureOr<RankedTensorType> inferReduceType(RankedTensorType input,
                                            ArrayRef<int64_t> axes,
                                            bool keepDims,
                                            ErrorEmitter emitError);

/// Result dim i is input dim `permutation[i]`.
FailureOr<RankedTensorType> inferTransposeType(RankedTensorType input,
                                               ArrayRef<int64_t> permutation,
                                               ErrorEmitter emitError);

/// Joins `inputs` along `axis`; all other dims must agree.
FailureOr<RankedTensorType> inferConcatType(ArrayRef<RankedTensorType> inputs,
                                            int64_t axis,
                                            ErrorEmitter emitError);

/// A strided window `[start, limit)` per dim, with positive strides.
FailureOr<RankedTensorType> inferSliceType(RankedTensorType input,
                                           ArrayRef<int64_t> starts,
                                           ArrayRef<int64_t> limits,
                                           ArrayRef<int64_t> strides,
                                           ErrorEmitter emitError);

/// `input.shape[:axis] + indices.shape + input.shape[axis+1:]`.
FailureOr<RankedTensorType> inferGatherType(RankedTensorType input,
                                            RankedTensorType indices,
                                            int64_t axis,
                                            ErrorEmitter emitError);

/// Prints a shape as `2x3x4` (or `scalar` for rank 0) for diagnostics.
std::string formatShape(ArrayRef<int64_t> shape);

} // namespace mlir::parc

#endif // PARC_DIALECT_PARC_IR_PARCSHAPEINFERENCE_H
