//===- PlanReport.cpp - the plan parc-compile --report prints -------------===//

#include "parc/Target/Report/PlanReport.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Format.h"

using namespace mlir;
using namespace mlir::parc;

static int64_t byteSize(RankedTensorType type) {
  unsigned bits = type.getElementType().getIntOrFloatBitWidth();
  return type.getNumElements() * (bits == 1 ? 1 : bits / 8);
}

static std::string nodeOf(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "";
}

void mlir::parc::printPlanReport(ModuleOp module, llvm::raw_ostream &os) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  int64_t ranks = main ? getMeshAxisSize(main, "tp").value_or(1) : 1;
  if (!main || ranks <= 1)
    return;
  os << "  mesh: dp=1 pp=1 tp=" << ranks
     << "\n  weights (layout, bytes per rank of all):\n";
  int64_t split = 0, whole = 0;
  for (auto weight : module.getOps<WeightOp>()) {
    RankedTensorType type = weight.getType();
    ShardingAttr sharding = weight.getShardingAttr();
    int64_t bytes = byteSize(type);
    int64_t local = sharding && sharding.isSplit() ? bytes / ranks : bytes;
    (sharding && sharding.isSplit() ? split : whole) += local;
    os << "    " << weight.getSymName() << "  ";
    if (sharding && sharding.isSplit()) {
      os << "split(" << sharding.getDim();
      if (sharding.getGroups() != 1)
        os << ", groups = " << sharding.getGroups();
      os << ")";
    } else {
      os << "replicated";
      bool divisible = llvm::any_of(type.getShape(),
                                    [&](int64_t dim) { return dim % ranks == 0; });
      if (type.getRank() >= 2 && !divisible)
        os << " (no dim divides by " << ranks << ")";
    }
    os << "  " << local << " of " << bytes << "\n";
  }
  os << "  weight bytes per rank: " << split << " split + " << whole
     << " replicated\n  collectives per forward pass (tensor moved):\n";
  int64_t count = 0;
  main.walk([&](Operation *op) {
    if (!isa<AllReduceOp, AllGatherOp, ReduceScatterOp>(op))
      return;
    // The whole tensor: the result of an all-reduce or all-gather, the input of a scatter.
    auto type = cast<RankedTensorType>(isa<ReduceScatterOp>(op)
                                           ? op->getOperand(0).getType()
                                           : op->getResult(0).getType());
    std::string node = nodeOf(op->getLoc());
    os << "    " << op->getName().stripDialect() << "  " << type.getNumElements()
       << " elements, " << byteSize(type) << " bytes"
       << (node.empty() ? "" : "  after '" + node + "'") << "\n";
    ++count;
  });
  os << "  collectives: " << count << "\n";
}
