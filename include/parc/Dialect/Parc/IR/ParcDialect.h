//===- ParcDialect.h - parc dialect declaration -----------------*- C++ -*-===//
//
// Declares the parc dialect class. Include ParcOps.h for the operations.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_DIALECT_PARC_IR_PARCDIALECT_H
#define PARC_DIALECT_PARC_IR_PARCDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "parc/Dialect/Parc/IR/ParcDialect.h.inc"

#endif // PARC_DIALECT_PARC_IR_PARCDIALECT_H
