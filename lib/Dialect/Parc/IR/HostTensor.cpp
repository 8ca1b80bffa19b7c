//===- HostTensor.cpp - small constant tensors unpacked for folding -------===//

#include "parc/Dialect/Parc/IR/HostTensor.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

using namespace mlir;
using namespace mlir::parc;

bool HostTensor::fits(RankedTensorType type) {
  if (!type || !type.hasStaticShape())
    return false;
  int64_t elements = 1;
  for (int64_t dim : type.getShape())
    if (dim < 0 || __builtin_mul_overflow(elements, dim, &elements) ||
        elements > kMaxFoldedElements)
      return false;
  return true;
}

HostTensor::HostTensor(RankedTensorType type)
    : type(type), floating(isa<FloatType>(type.getElementType())) {
  if (floating)
    floats.assign(type.getNumElements(), 0.0);
  else
    ints.assign(type.getNumElements(), 0);
}

std::optional<HostTensor> HostTensor::fromAttr(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(dense.getType());
  if (!fits(type))
    return std::nullopt;
  Type elementType = type.getElementType();
  if (!isa<FloatType, IntegerType>(elementType))
    return std::nullopt;
  HostTensor tensor(type);
  int64_t n = tensor.size();
  if (tensor.floating) {
    auto toDouble = [](APFloat value) {
      bool losesInfo = false;
      value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
      return value.convertToDouble();
    };
    if (dense.isSplat()) {
      tensor.floats.assign(n, toDouble(dense.getSplatValue<APFloat>()));
    } else {
      int64_t i = 0;
      for (APFloat value : dense.getValues<APFloat>())
        tensor.floats[i++] = toDouble(value);
    }
    return tensor;
  }
  bool isBool = elementType.isInteger(1);
  auto toInt = [isBool](const APInt &value) -> int64_t {
    return isBool ? static_cast<int64_t>(value.getBoolValue())
                  : value.getSExtValue();
  };
  if (dense.isSplat()) {
    tensor.ints.assign(n, toInt(dense.getSplatValue<APInt>()));
  } else {
    int64_t i = 0;
    for (const APInt &value : dense.getValues<APInt>())
      tensor.ints[i++] = toInt(value);
  }
  return tensor;
}

void HostTensor::copyElement(int64_t to, const HostTensor &other,
                             int64_t from) {
  if (floating)
    floats[to] = other.getFloat(from);
  else
    ints[to] = other.getInt(from);
}

DenseElementsAttr HostTensor::toAttr() const {
  Type elementType = type.getElementType();
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> values;
    values.reserve(floats.size());
    for (double v : floats) {
      APFloat value(v);
      bool losesInfo = false;
      value.convert(floatType.getFloatSemantics(),
                    APFloat::rmNearestTiesToEven, &losesInfo);
      values.push_back(value);
    }
    return DenseElementsAttr::get(type, values);
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  if (width == 1) {
    SmallVector<bool> values;
    for (int64_t v : ints)
      values.push_back(v != 0);
    return DenseElementsAttr::get(type, values);
  }
  SmallVector<APInt> values;
  values.reserve(ints.size());
  for (int64_t v : ints)
    values.push_back(APInt(width, static_cast<uint64_t>(v), /*isSigned=*/true,
                           /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, values);
}

SmallVector<int64_t> HostTensor::strides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> result(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    result[d] = result[d + 1] * shape[d + 1];
  return result;
}

int64_t HostTensor::broadcastIndex(ArrayRef<int64_t> shape,
                                   ArrayRef<int64_t> resultShape,
                                   int64_t index) {
  int64_t offset = resultShape.size() - shape.size();
  int64_t source = 0, sourceStride = 1;
  for (int64_t d = static_cast<int64_t>(resultShape.size()) - 1; d >= 0; --d) {
    int64_t coordinate = index % resultShape[d];
    index /= resultShape[d];
    if (d < offset)
      continue;
    int64_t dim = shape[d - offset];
    if (dim != 1)
      source += coordinate * sourceStride;
    sourceStride *= dim;
  }
  return source;
}
