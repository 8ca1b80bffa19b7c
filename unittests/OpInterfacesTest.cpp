//===- OpInterfacesTest.cpp - every op declares its rules -----------------===//
//
// Analyses ask ops through their interfaces (ParcInterfaces.td), never by name, so an op
// without a rule must say so: every op of the parc dialect implements the sharding
// interface or declares ReplicatedSharding, implements the gradient interface or declares
// NoGradient or NoGradientRule (exactly one of each), and has a cost.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcDialect.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::parc;

namespace {

TEST(OpInterfacesTest, EveryOpDeclaresItsShardingGradientAndCost) {
  MLIRContext context;
  context.loadDialect<ParcDialect, func::FuncDialect>();
  int ops = 0;
  for (RegisteredOperationName name : context.getRegisteredOperations()) {
    if (name.getDialectNamespace() != "parc")
      continue;
    ++ops;
    bool sharded = name.hasInterface<ShardingOpInterface>();
    bool replicated = name.hasTrait<ReplicatedSharding>();
    EXPECT_NE(sharded, replicated)
        << name.getStringRef().str() << ": exactly one of a sharding rule or ReplicatedSharding";
    int gradients = int(name.hasInterface<GradientOpInterface>()) +
                    int(name.hasTrait<NoGradient>()) + int(name.hasTrait<NoGradientRule>());
    EXPECT_EQ(gradients, 1) << name.getStringRef().str()
                            << ": exactly one of a gradient rule, NoGradient or NoGradientRule";
    EXPECT_TRUE(name.hasInterface<CostOpInterface>()) << name.getStringRef().str();
  }
  // The dialect's ops are all registered (the walk saw them).
  EXPECT_GT(ops, 50);
}

} // namespace
