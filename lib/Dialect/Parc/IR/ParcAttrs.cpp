//===- ParcAttrs.cpp - parc dialect attributes ----------------------------===//
//
// The sharding attribute: its textual form (`replicated`, `partial`, `split(d)`,
// `split(d, groups = g)`), its verifier, and the local shape one rank holds.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcAttrs.h"
#include "parc/Dialect/Parc/IR/ParcDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::parc;

#define GET_ATTRDEF_CLASSES
#include "parc/Dialect/Parc/IR/ParcAttrs.cpp.inc"

ShardingAttr ShardingAttr::getReplicated(MLIRContext *context) {
  return get(context, ShardingKind::Replicated, -1, 1);
}

ShardingAttr ShardingAttr::getPartial(MLIRContext *context) {
  return get(context, ShardingKind::Partial, -1, 1);
}

ShardingAttr ShardingAttr::getSplit(MLIRContext *context, int64_t dim,
                                    int64_t groups) {
  return get(context, ShardingKind::Split, dim, groups);
}

LogicalResult
ShardingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                     ShardingKind kind, int64_t dim, int64_t groups) {
  if (kind == ShardingKind::Split && (dim < 0 || groups < 1))
    return emitError() << "a split needs a dim >= 0 and groups >= 1";
  if (kind != ShardingKind::Split && (dim != -1 || groups != 1))
    return emitError() << "only a split has a dim and groups";
  return success();
}

SmallVector<int64_t> ShardingAttr::getLocalShape(ArrayRef<int64_t> shape,
                                                 int64_t ranks) const {
  SmallVector<int64_t> local(shape);
  if (isSplit() && getDim() < static_cast<int64_t>(local.size()))
    local[getDim()] /= ranks;
  return local;
}

Attribute ShardingAttr::parse(AsmParser &parser, Type) {
  MLIRContext *context = parser.getContext();
  StringRef keyword;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  ShardingAttr result;
  if (keyword == "replicated") {
    result = getReplicated(context);
  } else if (keyword == "partial") {
    result = getPartial(context);
  } else if (keyword == "split") {
    int64_t dim = 0, groups = 1;
    if (parser.parseLParen() || parser.parseInteger(dim))
      return {};
    if (succeeded(parser.parseOptionalComma()) &&
        (parser.parseKeyword("groups") || parser.parseEqual() ||
         parser.parseInteger(groups)))
      return {};
    if (parser.parseRParen())
      return {};
    result = getChecked([&] { return parser.emitError(parser.getNameLoc()); },
                        context, ShardingKind::Split, dim, groups);
    if (!result)
      return {};
  } else {
    parser.emitError(parser.getNameLoc(),
                     "expected replicated, partial or split(dim[, groups = g])");
    return {};
  }
  if (parser.parseGreater())
    return {};
  return result;
}

void ShardingAttr::print(AsmPrinter &printer) const {
  printer << "<";
  switch (getKind()) {
  case ShardingKind::Replicated:
    printer << "replicated";
    break;
  case ShardingKind::Partial:
    printer << "partial";
    break;
  case ShardingKind::Split:
    printer << "split(" << getDim();
    if (getGroups() != 1)
      printer << ", groups = " << getGroups();
    printer << ")";
    break;
  }
  printer << ">";
}

void ParcDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "parc/Dialect/Parc/IR/ParcAttrs.cpp.inc"
      >();
}
