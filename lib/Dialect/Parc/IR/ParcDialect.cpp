//===- ParcDialect.cpp - parc dialect registration ------------------------===//
//
// Registers the parc operations and materializes folded constants as parc.constant.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcAttrs.h"
#include "parc/Dialect/Parc/IR/ParcDialect.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

using namespace mlir;
using namespace mlir::parc;

#include "parc/Dialect/Parc/IR/ParcDialect.cpp.inc"
#include "parc/Dialect/Parc/IR/ParcInterfaces.cpp.inc"

void ParcDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "parc/Dialect/Parc/IR/ParcOps.cpp.inc"
      >();
}

Operation *ParcDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, type, elements);
}
