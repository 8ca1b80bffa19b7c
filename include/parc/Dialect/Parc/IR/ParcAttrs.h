//===- ParcAttrs.h - parc dialect attributes --------------------*- C++ -*-===//

#ifndef PARC_DIALECT_PARC_IR_PARCATTRS_H
#define PARC_DIALECT_PARC_IR_PARCATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

namespace mlir::parc {
/// The kinds of layout a ShardingAttr describes.
enum class ShardingKind : uint32_t { Replicated = 0, Split = 1, Partial = 2 };
} // namespace mlir::parc

#define GET_ATTRDEF_CLASSES
#include "parc/Dialect/Parc/IR/ParcAttrs.h.inc"

#endif // PARC_DIALECT_PARC_IR_PARCATTRS_H
