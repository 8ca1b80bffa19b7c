//===- Passes.h - parc dialect passes ---------------------------*- C++ -*-===//

#ifndef PARC_TRANSFORMS_PASSES_H
#define PARC_TRANSFORMS_PASSES_H

#include "parc/Dialect/Parc/IR/ParcDialect.h"
#include "parc/Dialect/Parc/IR/ParcDiscardableAttrs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::parc {

#define GEN_PASS_DECL
#include "parc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "parc/Transforms/Passes.h.inc"

} // namespace mlir::parc

#endif // PARC_TRANSFORMS_PASSES_H
