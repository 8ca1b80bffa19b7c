//===- ParcShapeInference.cpp - result types of parc ops ------------------===//
//
// Implements the result-type functions shared by the parc op verifiers and the ONNX importer.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcShapeInference.h"

#include "llvm/ADT/STLExtras.h"
#include <string>

using namespace mlir;
using namespace mlir::parc;

std::string mlir::parc::formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      text += "x";
    text += std::to_string(dim);
  }
  return text;
}

FailureOr<SmallVector<int64_t>>
mlir::parc::inferBroadcastShape(ArrayRef<ArrayRef<int64_t>> shapes,
                                ErrorEmitter emitError) {
  size_t rank = 0;
  for (ArrayRef<int64_t> shape : shapes)
    rank = std::max(rank, shape.size());
  SmallVector<int64_t> result(rank, 1);
  for (ArrayRef<int64_t> shape : shapes) {
    size_t offset = rank - shape.size();
    for (auto [i, dim] : llvm::enumerate(shape)) {
      int64_t &out = result[offset + i];
      if (dim == out || dim == 1)
        continue;
      if (out == 1) {
        out = dim;
        continue;
      }
      InFlightDiagnostic diag = emitError();
      diag << "shapes";
      for (ArrayRef<int64_t> s : shapes)
        diag << " " << formatShape(s);
      diag << " do not broadcast together";
      return failure();
    }
  }
  return result;
}

FailureOr<RankedTensorType> mlir::parc::inferMatMulType(RankedTensorType lhs,
                                                        RankedTensorType rhs,
                                                        ErrorEmitter emitError) {
  if (lhs.getRank() < 2 || rhs.getRank() < 2) {
    emitError() << "matmul operands need rank >= 2, got "
                << formatShape(lhs.getShape()) << " and "
                << formatShape(rhs.getShape());
    return failure();
  }
  if (lhs.getElementType() != rhs.getElementType()) {
    emitError() << "matmul operands have different element types "
                << lhs.getElementType() << " and " << rhs.getElementType();
    return failure();
  }
  ArrayRef<int64_t> l = lhs.getShape(), r = rhs.getShape();
  int64_t k = l.back(), kRhs = r[r.size() - 2];
  if (k != kRhs) {
    emitError() << "matmul contracts dims of different sizes: "
                << formatShape(l) << " x " << formatShape(r);
    return failure();
  }
  FailureOr<SmallVector<int64_t>> batch =
      inferBroadcastShape({l.drop_back(2), r.drop_back(2)}, emitError);
  if (failed(batch))
    return failure();
  SmallVector<int64_t> shape = *batch;
  shape.push_back(l[l.size() - 2]);
  shape.push_back(r.back());
  return RankedTensorType::get(shape, lhs.getElementType());
}

FailureOr<RankedTensorType> mlir::parc::inferReduceType(RankedTensorType input,
                                                        ArrayRef<int64_t> axes,
                                                        bool keepDims,
                                                        ErrorEmitter emitError) {
  int64_t rank = input.getRank();
  for (auto [i, axis] : llvm::enumerate(axes)) {
    if (axis < 0 || axis >= rank) {
      emitError() << "reduction axis " << axis << " is out of range for rank "
                  << rank;
      return failure();
    }
    if (i && axes[i - 1] >= axis) {
      emitError() << "reduction axes must be sorted and distinct";
      return failure();
    }
  }
  SmallVector<int64_t> shape;
  for (auto [d, dim] : llvm::enumerate(input.getShape())) {
    bool reduced = llvm::is_contained(axes, static_cast<int64_t>(d));
    if (!reduced)
      shape.push_back(dim);
    else if (keepDims)
      shape.push_back(1);
  }
  return RankedTensorType::get(shape, input.getElementType());
}

FailureOr<RankedTensorType>
mlir::parc::inferTransposeType(RankedTensorType input,
                               ArrayRef<int64_t> permutation,
                               ErrorEmitter emitError) {
  int64_t rank = input.getRank();
  SmallVector<bool> seen(rank, false);
  bool valid = static_cast<int64_t>(permutation.size()) == rank;
  for (int64_t p : permutation) {
    if (!valid || p < 0 || p >= rank || seen[p]) {
      valid = false;
      break;
    }
    seen[p] = true;
  }
  if (!valid) {
    emitError() << "permutation [" << permutation
                << "] is not a permutation of the " << rank << " dims";
    return failure();
  }
  SmallVector<int64_t> shape;
  for (int64_t p : permutation)
    shape.push_back(input.getDimSize(p));
  return RankedTensorType::get(shape, input.getElementType());
}

FailureOr<RankedTensorType>
mlir::parc::inferConcatType(ArrayRef<RankedTensorType> inputs, int64_t axis,
                            ErrorEmitter emitError) {
  if (inputs.empty()) {
    emitError() << "concat needs at least one input";
    return failure();
  }
  RankedTensorType first = inputs.front();
  int64_t rank = first.getRank();
  if (axis < 0 || axis >= rank) {
    emitError() << "concat axis " << axis << " is out of range for rank "
                << rank;
    return failure();
  }
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (RankedTensorType input : inputs) {
    bool compatible = input.getRank() == rank &&
                      input.getElementType() == first.getElementType();
    for (int64_t d = 0; compatible && d < rank; ++d)
      compatible = d == axis || input.getDimSize(d) == first.getDimSize(d);
    if (!compatible) {
      emitError() << "cannot concatenate " << first << " with " << input
                  << " along axis " << axis;
      return failure();
    }
    shape[axis] += input.getDimSize(axis);
  }
  return RankedTensorType::get(shape, first.getElementType());
}

FailureOr<RankedTensorType> mlir::parc::inferSliceType(
    RankedTensorType input, ArrayRef<int64_t> starts, ArrayRef<int64_t> limits,
    ArrayRef<int64_t> strides, ErrorEmitter emitError) {
  int64_t rank = input.getRank();
  if (static_cast<int64_t>(starts.size()) != rank ||
      static_cast<int64_t>(limits.size()) != rank ||
      static_cast<int64_t>(strides.size()) != rank) {
    emitError() << "slice needs one start, limit and stride per dim (rank "
                << rank << ")";
    return failure();
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = input.getDimSize(d);
    if (strides[d] <= 0 || starts[d] < 0 || limits[d] > size ||
        starts[d] > limits[d]) {
      emitError() << "slice [" << starts[d] << ", " << limits[d]
                  << ") with stride " << strides[d] << " is invalid for dim "
                  << d << " of size " << size;
      return failure();
    }
    shape.push_back((limits[d] - starts[d] + strides[d] - 1) / strides[d]);
  }
  return RankedTensorType::get(shape, input.getElementType());
}

FailureOr<RankedTensorType> mlir::parc::inferGatherType(RankedTensorType input,
                                                        RankedTensorType indices,
                                                        int64_t axis,
                                                        ErrorEmitter emitError) {
  int64_t rank = input.getRank();
  if (axis < 0 || axis >= rank) {
    emitError() << "gather axis " << axis << " is out of range for rank "
                << rank;
    return failure();
  }
  SmallVector<int64_t> shape(input.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, input.getShape().drop_front(axis + 1));
  return RankedTensorType::get(shape, input.getElementType());
}
