//===- HostTensor.h - small constant tensors unpacked for folding -*- C++ -*-===//
//
// A constant tensor unpacked into host values (doubles for floating point, int64 for integers
// and booleans) so that folders can evaluate shape arithmetic, masks and other small constant
// subgraphs. Results are rounded back to the tensor's element type when packed into an
// attribute, so folding f32 arithmetic through doubles rounds exactly once.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_HOSTTENSOR_H
#define PARC_DIALECT_PARC_IR_HOSTTENSOR_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace mlir::parc {

/// Folding stops at tensors larger than this, leaving the work to run time.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 20;

/// A constant tensor whose elements are held as doubles or as int64s.
class HostTensor {
public:
  /// Unpacks a dense constant; std::nullopt for other attributes or large tensors.
  static std::optional<HostTensor> fromAttr(Attribute attr);
  /// Whether a tensor of `type` may be folded: a static shape of at most
  /// kMaxFoldedElements elements (counted without overflow, whatever the dims). Folders
  /// check it before making a result, which a model can make as large as it likes.
  static bool fits(RankedTensorType type);
  /// A zero-filled tensor of the given type, which fits().
  explicit HostTensor(RankedTensorType type);

  RankedTensorType getType() const { return type; }
  ArrayRef<int64_t> getShape() const { return type.getShape(); }
  int64_t size() const { return type.getNumElements(); }
  bool isFloat() const { return floating; }

  double getFloat(int64_t i) const { return floating ? floats[i] : ints[i]; }
  int64_t getInt(int64_t i) const { return floating ? toInt(floats[i]) : ints[i]; }
  void setFloat(int64_t i, double v) {
    if (floating)
      floats[i] = v;
    else
      ints[i] = toInt(v);
  }
  /// `v` truncated toward zero, saturated at int64's bounds (NaN gives 0): a model's floats
  /// can be anything, and a plain conversion of one out of range is undefined.
  static int64_t toInt(double v) {
    if (!(v == v))
      return 0;
    if (v >= 9223372036854775808.0)
      return INT64_MAX;
    if (v < -9223372036854775808.0)
      return INT64_MIN;
    return static_cast<int64_t>(v);
  }
  void setInt(int64_t i, int64_t v) {
    if (floating)
      floats[i] = static_cast<double>(v);
    else
      ints[i] = v;
  }
  /// Copies element `from` of `other` (same kind of element) into element `to`.
  void copyElement(int64_t to, const HostTensor &other, int64_t from);

  /// Packs the values into a DenseElementsAttr of this tensor's type.
  DenseElementsAttr toAttr() const;

  /// The flat index in a tensor of `shape` of the element at `index` of `resultShape`
  /// when `shape` is numpy-broadcast to `resultShape`.
  static int64_t broadcastIndex(ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> resultShape, int64_t index);
  /// Row-major strides of a shape.
  static SmallVector<int64_t> strides(ArrayRef<int64_t> shape);

private:
  RankedTensorType type;
  bool floating;
  std::vector<double> floats;
  std::vector<int64_t> ints;
};

} // namespace mlir::parc

#endif // PARC_DIALECT_PARC_IR_HOSTTENSOR_H
