//===- Fuse.cpp - grouping elementwise ops and row reductions -------------===//
//
// parc-fuse forms the groups a code generator turns into one kernel each; see the pass
// description. parc-inline-fused undoes it (the CPU backend's way of running a group).
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::parc {
#define GEN_PASS_DEF_FUSEPASS
#define GEN_PASS_DEF_INLINEFUSEDPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

/// Declared in ODS (Parc_ElementwiseKernel): an op added with the trait fuses with no
/// change here.
bool isElementwise(Operation *op) { return op->hasTrait<ElementwiseKernel>(); }

RankedTensorType resultType(Operation *op) {
  return cast<RankedTensorType>(op->getResult(0).getType());
}

/// A reduction over the last dim that keeps it (a per-row value), or a softmax over the
/// last dim: what makes a group a "row" group.
bool isRowOp(Operation *op) {
  auto input = op->getNumOperands() ? dyn_cast<RankedTensorType>(op->getOperand(0).getType())
                                    : RankedTensorType();
  if (!input || input.getRank() == 0)
    return false;
  int64_t last = input.getRank() - 1;
  auto lastOnly = [&](ArrayRef<int64_t> axes) { return axes.size() == 1 && axes[0] == last; };
  if (auto reduce = dyn_cast<ReduceSumOp>(op))
    return reduce.getKeepDims() && lastOnly(reduce.getAxes());
  if (auto reduce = dyn_cast<ReduceMeanOp>(op))
    return reduce.getKeepDims() && lastOnly(reduce.getAxes());
  if (auto reduce = dyn_cast<ReduceMaxOp>(op))
    return reduce.getKeepDims() && lastOnly(reduce.getAxes());
  if (auto softmax = dyn_cast<SoftmaxOp>(op))
    return softmax.getAxis() == last;
  if (auto softmax = dyn_cast<LogSoftmaxOp>(op))
    return softmax.getAxis() == last;
  return false;
}

bool isFusible(Operation *op) {
  return op->getNumResults() == 1 && (isElementwise(op) || isRowOp(op));
}

/// One group being formed.
struct Group {
  /// The shape every op of the group computes over (a row group's rows are its last dim).
  SmallVector<int64_t> domain;
  bool row = false;
  /// A GEMM with the epilogue cuBLASLt runs with it ("bias" or "bias_gelu").
  std::string gemmEpilogue;
  llvm::SetVector<Operation *> ops;
};

class Fuser {
public:
  explicit Fuser(func::FuncOp function) : function(function) {
    int64_t position = 0;
    for (Operation &op : function.front())
      positionOf[&op] = position++;
  }

  void run() {
    for (Operation &op : function.front())
      if (auto matmul = dyn_cast<MatMulOp>(op))
        placeGemm(matmul);
    for (Operation &op : function.front()) {
      if (groupOf.count(&op))
        continue;
      if (isFusible(&op))
        place(&op);
      else if (isa<ReshapeOp>(op))
        placeReshape(&op);
    }
    for (Group &group : groups)
      materialize(group);
  }

private:
  /// The domain's shape with the last dim 1: the shape of a per-row value.
  static SmallVector<int64_t> rowShape(ArrayRef<int64_t> domain) {
    SmallVector<int64_t> shape(domain);
    if (!shape.empty())
      shape.back() = 1;
    return shape;
  }

  /// Whether `op` computes over `group`'s domain.
  bool fitsDomain(Operation *op, const Group &group) const {
    ArrayRef<int64_t> shape = resultType(op).getShape();
    // An elementwise group's elements keep their row-major order through a reshape: any
    // result with the domain's element count fits (a bias add before the reshape a GELU
    // follows).
    if (!group.row && !isRowOp(op) &&
        resultType(op).getNumElements() == ShapedType::getNumElements(group.domain))
      return true;
    if (isRowOp(op)) {
      // Row kernels index by shape: every op of the group must have the domain's shape
      // (or be per-row).
      auto input = cast<RankedTensorType>(op->getOperand(0).getType());
      return input.getShape() == ArrayRef<int64_t>(group.domain) &&
             rowShaped(group.ops, group.domain);
    }
    if (shape == ArrayRef<int64_t>(group.domain))
      return true;
    // A per-row value, computed from per-row values of the group.
    return group.row && shape == ArrayRef<int64_t>(rowShape(group.domain));
  }

  /// Whether no op outside `group` reads one of its values before `op`.
  bool noEarlierReader(Operation *op, const Group &group) const {
    for (Operation *member : group.ops)
      for (Operation *user : member->getUsers())
        if (user != op && !group.ops.contains(user) &&
            positionOf.lookup(user) < positionOf.lookup(op))
          return false;
    return true;
  }

  /// Whether `from` can join `into`: two elementwise groups of one element count, or
  /// groups with one domain whose ops all fit it exactly (row kernels index by shape).
  bool canMerge(const Group &from, const Group &into) const {
    if (!from.row && !into.row)
      return ShapedType::getNumElements(from.domain) ==
             ShapedType::getNumElements(into.domain);
    return from.domain == into.domain && rowShaped(from.ops, into.domain);
  }

  /// Whether every op of `ops` computes `domain` or its per-row shape (what a row kernel
  /// can index).
  static bool rowShaped(const llvm::SetVector<Operation *> &ops, ArrayRef<int64_t> domain) {
    SmallVector<int64_t> perRow = rowShape(domain);
    return llvm::all_of(ops, [&](Operation *op) {
      ArrayRef<int64_t> shape = resultType(op).getShape();
      return shape == domain || shape == ArrayRef<int64_t>(perRow);
    });
  }

  /// The group producing `value` that other ops may join (not a GEMM), or -1.
  int64_t joinableGroupOf(Value value) const {
    Operation *def = value.getDefiningOp();
    auto group = def ? groupOf.find(def) : groupOf.end();
    if (group == groupOf.end() || !groups[group->second].gemmEpilogue.empty())
      return -1;
    return group->second;
  }

  /// A matmul whose only use adds a bias along its last dim (and whose sum's only use, if
  /// any, is a tanh-approximated GELU) is one GEMM with a cuBLASLt epilogue.
  void placeGemm(MatMulOp matmul) {
    Value product = matmul.getResult();
    if (!product.hasOneUse())
      return;
    auto add = dyn_cast<AddOp>(*product.getUsers().begin());
    if (!add)
      return;
    Value bias = add.getLhs() == product ? add.getRhs() : add.getLhs();
    auto biasType = cast<RankedTensorType>(bias.getType());
    auto productType = cast<RankedTensorType>(product.getType());
    if (biasType.getRank() != 1 || productType.getRank() < 2 ||
        biasType.getDimSize(0) != productType.getShape().back() ||
        add.getType() != productType)
      return;
    Group group;
    group.domain.assign(productType.getShape().begin(), productType.getShape().end());
    group.gemmEpilogue = "bias";
    group.ops.insert(matmul);
    group.ops.insert(add);
    if (add.getResult().hasOneUse())
      if (auto gelu = dyn_cast<GeluOp>(*add.getResult().getUsers().begin());
          gelu && gelu.getTanhApproximation()) {
        group.gemmEpilogue = "bias_gelu";
        group.ops.insert(gelu);
      }
    for (Operation *op : group.ops)
      groupOf[op] = groups.size();
    groups.push_back(std::move(group));
  }

  /// A reshape (a view) joins the elementwise group of its input; it starts none.
  void placeReshape(Operation *op) {
    int64_t group = joinableGroupOf(op->getOperand(0));
    if (group < 0 || groups[group].row || !noEarlierReader(op, groups[group]))
      return;
    groups[group].ops.insert(op);
    groupOf[op] = group;
  }

  void place(Operation *op) {
    // The group of the latest producer among the operands.
    int64_t best = -1, latest = -1;
    for (Value operand : op->getOperands()) {
      int64_t group = joinableGroupOf(operand);
      if (group >= 0 && positionOf.lookup(operand.getDefiningOp()) > latest) {
        best = group;
        latest = positionOf.lookup(operand.getDefiningOp());
      }
    }
    if (best >= 0 && fitsDomain(op, groups[best]) && noEarlierReader(op, groups[best])) {
      groups[best].ops.insert(op);
      groups[best].row |= isRowOp(op);
      groupOf[op] = best;
      // The other groups this op reads join too when they share the domain and no op
      // outside reads them before this one (x * 0.5 and the tanh chain of a GELU).
      for (Value operand : op->getOperands()) {
        int64_t other = joinableGroupOf(operand);
        if (other < 0 || other == best)
          continue;
        Group &merged = groups[other];
        if (!canMerge(merged, groups[best]) || !noEarlierReader(op, merged))
          continue;
        for (Operation *member : merged.ops) {
          groups[best].ops.insert(member);
          groupOf[member] = best;
        }
        merged.ops.clear();
      }
      return;
    }
    Group group;
    ArrayRef<int64_t> domain = isRowOp(op)
                                   ? cast<RankedTensorType>(op->getOperand(0).getType()).getShape()
                                   : resultType(op).getShape();
    group.domain.assign(domain.begin(), domain.end());
    group.row = isRowOp(op);
    group.ops.insert(op);
    groupOf[op] = groups.size();
    groups.push_back(std::move(group));
  }

  /// Replaces the group's ops by one parc.fused where its last op was.
  void materialize(Group &group) {
    if (group.ops.empty()) // merged into another
      return;
    // Program order (merging appends whole groups).
    SmallVector<Operation *> ordered(group.ops.begin(), group.ops.end());
    llvm::sort(ordered, [&](Operation *a, Operation *b) {
      return positionOf.lookup(a) < positionOf.lookup(b);
    });
    group.ops = llvm::SetVector<Operation *>(ordered.begin(), ordered.end());
    llvm::SetVector<Value> inputs, results;
    for (Operation *op : group.ops) {
      for (Value operand : op->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (!def || !group.ops.contains(def))
          inputs.insert(operand);
      }
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(),
                         [&](Operation *user) { return !group.ops.contains(user); }))
          results.insert(result);
    }
    Operation *last = group.ops.back();
    OpBuilder builder(last);
    SmallVector<Type> resultTypes;
    for (Value result : results)
      resultTypes.push_back(result.getType());
    StringRef kind = !group.gemmEpilogue.empty() ? "gemm" : group.row ? "row" : "elementwise";
    auto fused = FusedOp::create(builder, last->getLoc(), resultTypes, inputs.getArrayRef(),
                                 builder.getStringAttr(kind));
    if (!group.gemmEpilogue.empty())
      fused->setAttr("epilogue", builder.getStringAttr(group.gemmEpilogue));
    Block *body = new Block();
    fused.getBody().push_back(body);
    IRMapping mapping;
    for (Value input : inputs)
      mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
    OpBuilder inside = OpBuilder::atBlockEnd(body);
    for (Operation *op : group.ops)
      inside.clone(*op, mapping);
    SmallVector<Value> yielded;
    for (Value result : results)
      yielded.push_back(mapping.lookup(result));
    YieldOp::create(inside, last->getLoc(), yielded);
    for (auto [index, result] : llvm::enumerate(results)) {
      Value original = result;
      original.replaceAllUsesWith(fused.getResult(index));
    }
    for (Operation *op : llvm::reverse(group.ops))
      op->erase();
  }

  func::FuncOp function;
  llvm::DenseMap<Operation *, int64_t> positionOf;
  std::vector<Group> groups;
  llvm::DenseMap<Operation *, int64_t> groupOf;
};

struct FusePass : mlir::parc::impl::FusePassBase<FusePass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!function.isExternal())
      Fuser(function).run();
  }
};

struct InlineFusedPass : mlir::parc::impl::InlineFusedPassBase<InlineFusedPass> {
  void runOnOperation() override {
    SmallVector<FusedOp> fusedOps;
    getOperation().walk([&](FusedOp fused) { fusedOps.push_back(fused); });
    for (FusedOp fused : fusedOps) {
      Block &body = fused.getBody().front();
      IRMapping mapping;
      for (auto [argument, input] : llvm::zip(body.getArguments(), fused.getInputs()))
        mapping.map(argument, input);
      OpBuilder builder(fused);
      for (Operation &op : body.without_terminator())
        builder.clone(op, mapping);
      for (auto [result, yielded] :
           llvm::zip(fused.getResults(), body.getTerminator()->getOperands()))
        result.replaceAllUsesWith(mapping.lookup(yielded));
      fused.erase();
    }
  }
};

} // namespace
