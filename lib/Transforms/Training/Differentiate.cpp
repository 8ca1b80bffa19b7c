//===- Differentiate.cpp - reverse-mode autodiff of @main -----------------===//
//
// Appends to @main the gradients of its first result (summed, so a scalar loss gives its
// plain gradient) with respect to the weights (or float arguments); see the pass
// description. The sweep visits ops in reverse program order and accumulates each value's
// gradient over its uses; each op's rule is its GradientOpInterface (ParcGradients.cpp).
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/GradientBuilder.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::parc {
#define GEN_PASS_DEF_DIFFERENTIATEPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

bool isFloatTensor(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && isa<FloatType>(type.getElementType());
}

/// Marks every op the backward pass inserts with the id of the forward op it belongs to
/// (kAdjointOfAttr), giving that forward op the id (kOpIdAttr) when it has none yet.
class AdjointTagger : public OpBuilder::Listener {
public:
  /// The backward ops inserted from now on belong to `forward`.
  void belongTo(Operation *forward) {
    if (!enabled)
      return;
    auto id = forward->getAttrOfType<IntegerAttr>(kOpIdAttr);
    if (!id) {
      id = IntegerAttr::get(IntegerType::get(forward->getContext(), 64), nextId++);
      forward->setAttr(kOpIdAttr, id);
    }
    current = id;
  }
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    if (current)
      op->setAttr(kAdjointOfAttr, current);
  }

  bool enabled = false;

private:
  IntegerAttr current;
  int64_t nextId = 0;
};

struct DifferentiatePass
    : mlir::parc::impl::DifferentiatePassBase<DifferentiatePass> {
  using DifferentiatePassBase::DifferentiatePassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    if (wrt != "weights" && wrt != "arguments") {
      main.emitError("wrt=") << wrt.getValue() << ": expected weights or arguments";
      return signalPassFailure();
    }
    if (failed(differentiate(main)))
      signalPassFailure();
  }

  LogicalResult differentiate(func::FuncOp main) {
    Block &body = main.front();
    Operation *terminator = body.getTerminator();
    if (terminator->getNumOperands() == 0 || !isFloatTensor(terminator->getOperand(0)))
      return main.emitError("differentiation needs a float first result (the loss)");
    Value loss = terminator->getOperand(0);

    // The leaves, in a stable order: weights by symbol (all their loads), or arguments.
    llvm::MapVector<StringRef, SmallVector<Value>> leaves;
    if (wrt == "weights") {
      for (Operation &op : body)
        if (auto load = dyn_cast<LoadWeightOp>(op); load && isFloatTensor(load.getResult()))
          leaves[load.getName()].push_back(load.getResult());
    } else {
      for (BlockArgument argument : main.getArguments())
        if (isFloatTensor(argument)) {
          auto name = main.getArgAttrOfType<StringAttr>(argument.getArgNumber(), kOnnxNameAttr);
          std::string key = name ? name.str() : "#" + std::to_string(argument.getArgNumber());
          leaves[StringAttr::get(main.getContext(), key).getValue()].push_back(argument);
        }
    }

    // Active values: float values that depend on a leaf and that the loss depends on.
    llvm::DenseSet<Value> dependsOnLeaf;
    for (auto &[name, values] : leaves)
      dependsOnLeaf.insert(values.begin(), values.end());
    for (Operation &op : body)
      if (llvm::any_of(op.getOperands(), [&](Value v) { return dependsOnLeaf.contains(v); }))
        for (Value result : op.getResults())
          if (isFloatTensor(result))
            dependsOnLeaf.insert(result);
    llvm::DenseSet<Value> reachesLoss{loss};
    for (Operation &op : llvm::reverse(body))
      if (llvm::any_of(op.getResults(), [&](Value v) { return reachesLoss.contains(v); }))
        for (Value operand : op.getOperands())
          reachesLoss.insert(operand);
    auto active = [&](Value v) { return dependsOnLeaf.contains(v) && reachesLoss.contains(v); };

    OpBuilder builder(terminator);
    AdjointTagger tagger;
    if (linkAdjoints) {
      tagger.enabled = true;
      builder.setListener(&tagger);
    }
    // Under tensor parallelism a replicated value can get partial contributions (the
    // input of a column-parallel matmul: each rank's share of the gradient); they are
    // summed apart and all-reduced once, when the value's gradient is complete (Megatron's
    // f operator).
    MLIRContext *context = main.getContext();
    auto layoutOf = [&](Value value) -> ShardingAttr {
      if (Operation *def = value.getDefiningOp()) {
        if (auto layout = def->getAttrOfType<ShardingAttr>(kTensorParallelLayoutAttr))
          return layout;
        if (auto load = dyn_cast<LoadWeightOp>(def))
          if (auto weight = SymbolTable::lookupNearestSymbolFrom<WeightOp>(def, load.getNameAttr()))
            if (ShardingAttr sharding = weight.getShardingAttr())
              return sharding;
      }
      return ShardingAttr::getReplicated(context);
    };
    llvm::DenseMap<Value, Value> gradients, partialGradients;
    auto sum = [&](Value &total, Value gradient, Location loc) {
      total = total ? AddOp::create(builder, loc, total.getType(), total, gradient).getResult()
                    : gradient;
    };
    auto accumulate = [&](Value value, Value gradient, Location loc) {
      sum(gradients[value], gradient, loc);
    };
    // The complete gradient of `value`: its whole contributions plus the all-reduced sum of
    // the partial ones.
    auto complete = [&](Value value, Location loc) -> Value {
      auto partial = partialGradients.find(value);
      if (partial == partialGradients.end())
        return gradients.lookup(value);
      Value reduced = AllReduceOp::create(builder, loc, partial->second.getType(),
                                          partial->second, builder.getStringAttr("tp"));
      partialGradients.erase(partial);
      sum(gradients[value], reduced, loc);
      return gradients.lookup(value);
    };
    // The loss's own gradient: ones (d sum(loss) / d loss).
    if (Operation *def = loss.getDefiningOp())
      tagger.belongTo(def);
    auto lossType = cast<RankedTensorType>(loss.getType());
    accumulate(loss, ConstantOp::create(builder, loss.getLoc(), lossType, 1.0), loss.getLoc());

    // The ops of the forward pass, last first (the new ops go before the terminator).
    SmallVector<Operation *> forward;
    for (Operation &op : body)
      if (&op != terminator)
        forward.push_back(&op);
    for (Operation *op : llvm::reverse(forward)) {
      if (op->getNumResults() != 1 || !active(op->getResult(0)))
        continue;
      Value gradient = complete(op->getResult(0), op->getLoc());
      if (!gradient)
        continue;
      SmallVector<bool> needed;
      for (Value operand : op->getOperands())
        needed.push_back(active(operand));
      if (llvm::none_of(needed, [](bool n) { return n; }))
        continue;
      tagger.belongTo(op);
      SmallVector<Value> operandGradients;
      if (failed(buildOperandGradients(builder, op, gradient, needed, operandGradients)))
        return failure();
      // A replicated operand of an op whose result is not replicated gets a partial
      // contribution (collectives and shard ops give whole gradients by construction).
      bool rankLocal = !layoutOf(op->getResult(0)).isReplicated() &&
                       !isa<AllReduceOp, AllGatherOp, ReduceScatterOp, ShardSliceOp,
                            ShardGatherOp>(op);
      for (auto [operand, operandGradient] : llvm::zip(op->getOperands(), operandGradients)) {
        if (!operandGradient)
          continue;
        if (rankLocal && layoutOf(operand).isReplicated())
          sum(partialGradients[operand], operandGradient, op->getLoc());
        else
          accumulate(operand, operandGradient, op->getLoc());
      }
    }

    // Return each leaf's gradient (zeros, marked unreached, when the loss does not depend
    // on it).
    SmallVector<Value> results(terminator->getOperands());
    SmallVector<DictionaryAttr> resultAttrs;
    main.getAllResultAttrs(resultAttrs);
    for (auto &[name, values] : leaves) {
      // A leaf's last sums belong to its first user: the earliest pipeline chunk using it,
      // whose backward runs after every other user's.
      Operation *firstUser = nullptr;
      for (Value value : values)
        for (Operation *user : value.getUsers())
          if (user != terminator && (!firstUser || user->isBeforeInBlock(firstUser)))
            firstUser = user;
      if (firstUser)
        tagger.belongTo(firstUser);
      Value total;
      for (Value value : values)
        if (Value gradient = complete(value, loss.getLoc()))
          sum(total, gradient, loss.getLoc());
      SmallVector<NamedAttribute> attrs{
          builder.getNamedAttr(kOnnxNameAttr, builder.getStringAttr("grad:" + name.str()))};
      if (!total) {
        total = ConstantOp::create(builder, loss.getLoc(),
                                   cast<RankedTensorType>(values.front().getType()), 0.0);
        attrs.push_back(builder.getNamedAttr(kUnreachedGradientAttr, builder.getUnitAttr()));
      }
      results.push_back(total);
      resultAttrs.push_back(builder.getDictionaryAttr(attrs));
    }
    terminator->setOperands(results);
    SmallVector<Type> resultTypes;
    for (Value result : results)
      resultTypes.push_back(result.getType());
    main.setFunctionType(FunctionType::get(main.getContext(), main.getArgumentTypes(), resultTypes));
    main.setAllResultAttrs(resultAttrs);
    return success();
  }
};

} // namespace
