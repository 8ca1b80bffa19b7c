//===- PlanBuffers.cpp - activation memory planning -----------------------===//
//
// Gives every activation of a function an offset in one arena so that the runtime allocates
// one block per rank and values whose lifetimes do not overlap share bytes. See the pass
// description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "llvm/ADT/DenseMap.h"

namespace mlir::parc {
#define GEN_PASS_DEF_PLANBUFFERSPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

constexpr int64_t kAlignment = 64;

/// One value that needs arena memory, with the span of program positions it is live.
struct LiveRange {
  Value value;
  int64_t bytes;
  int64_t start;
  int64_t end;
  int64_t offset = 0;
};

/// The value whose memory `value` uses: reshapes are views of their input, and a finished
/// receive or all-reduce is its buffer.
Value storageRoot(Value value) {
  while (true) {
    if (auto reshape = value.getDefiningOp<ReshapeOp>())
      value = reshape.getInput();
    else if (auto wait = value.getDefiningOp<RecvWaitOp>())
      value = wait.getBuffer();
    else if (auto wait = value.getDefiningOp<AllReduceWaitOp>())
      value = wait.getBuffer();
    else
      return value;
  }
}

/// True when the root lives outside the arena (argument, weight or literal).
bool isOutsideArena(Value root) {
  Operation *def = root.getDefiningOp();
  return !def || isa<ConstantOp, LoadWeightOp>(def);
}

int64_t alignUp(int64_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

struct PlanBuffersPass
    : mlir::parc::impl::PlanBuffersPassBase<PlanBuffersPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isExternal())
      return;
    if (!function.getBody().hasOneBlock()) {
      function.emitError("buffer planning needs a function with one block");
      return signalPassFailure();
    }
    Block &block = function.front();

    // Program positions and the live range of every arena root.
    llvm::DenseMap<Operation *, int64_t> position;
    int64_t count = 0;
    for (Operation &op : block)
      position[&op] = count++;
    llvm::DenseMap<Value, size_t> rangeOf;
    std::vector<LiveRange> ranges;
    for (Operation &op : block) {
      if (isa<ReshapeOp, RecvWaitOp, AllReduceWaitOp, ConstantOp, LoadWeightOp>(op))
        continue;
      for (Value result : op.getResults()) {
        rangeOf[result] = ranges.size();
        ranges.push_back({result, getStorageBytes(cast<RankedTensorType>(result.getType())), position[&op],
                          position[&op]});
      }
    }
    for (Operation &op : block) {
      for (Value operand : op.getOperands()) {
        Value root = storageRoot(operand);
        if (isOutsideArena(root))
          continue;
        LiveRange &range = ranges[rangeOf.lookup(root)];
        // Function results must survive the whole program.
        int64_t end = isa<func::ReturnOp>(op) ? count : position[&op];
        range.end = std::max(range.end, end);
      }
    }

    // Largest first, each at the lowest offset clear of every overlapping placed range.
    std::vector<size_t> order(ranges.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    llvm::stable_sort(order, [&](size_t a, size_t b) {
      return ranges[a].bytes > ranges[b].bytes;
    });
    std::vector<size_t> placed;
    int64_t arenaBytes = 0;
    for (size_t index : order) {
      LiveRange &range = ranges[index];
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (size_t other : placed) {
        const LiveRange &o = ranges[other];
        if (o.start <= range.end && range.start <= o.end)
          busy.push_back({o.offset, o.offset + alignUp(o.bytes)});
      }
      llvm::sort(busy);
      int64_t offset = 0;
      for (auto [begin, end] : busy) {
        if (offset + alignUp(range.bytes) <= begin)
          break;
        offset = std::max(offset, end);
      }
      range.offset = offset;
      arenaBytes = std::max(arenaBytes, offset + alignUp(range.bytes));
      placed.push_back(index);
    }

    Builder b(function.getContext());
    llvm::DenseMap<Operation *, SmallVector<int64_t>> offsetsOf;
    for (const LiveRange &range : ranges)
      offsetsOf[range.value.getDefiningOp()].push_back(range.offset);
    for (auto &[op, offsets] : offsetsOf) {
      if (offsets.size() == 1)
        op->setAttr(kOffsetAttr, b.getI64IntegerAttr(offsets.front()));
      else // results were visited in order
        op->setAttr(kOffsetsAttr, b.getDenseI64ArrayAttr(offsets));
    }
    function->setAttr(kArenaBytesAttr, b.getI64IntegerAttr(arenaBytes));
  }
};

} // namespace
