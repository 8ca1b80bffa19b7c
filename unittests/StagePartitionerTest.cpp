//===- StagePartitionerTest.cpp - the weighed cut against every cut -------===//
//
// partitionStages with transfers weighed promises the cut whose slowest stage (its load
// plus receiving what crosses into it) is fastest, ties going to fewer bytes sent. On a
// small residual program with zero-cost reshapes and weight loads between the ops with
// work, that promise is checked against every way of cutting the program, enumerated.
//
//===----------------------------------------------------------------------===//

#include "parc/Analysis/StagePartitioner.h"
#include "parc/Dialect/Parc/IR/ParcDialect.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::parc;

namespace {

constexpr double kLinkBytesPerSecond = 1024; // one 8x16 f32 tensor: half a second

/// Four residual blocks of unequal weight. Inside a block the residual stays live beside
/// the block's own value (two tensors cross a cut there, one between blocks), and ops
/// without work (reshapes, the residual's last use, a weight load) sit between the ops
/// that have it: cutting before or after them splits the load alike but not the bytes.
std::string program() {
  std::string weights, body;
  const double gelu[] = {2.0, 3.5, 1.0, 2.5};
  for (int b = 0; b < 4; ++b) {
    std::string i = std::to_string(b), x = b == 0 ? "%x" : "%y" + std::to_string(b - 1);
    weights += "  parc.weight @w" + i + " = dense<1.0> : tensor<8x16xf32>\n";
    body += "    %h" + i + " = parc.gelu " + x + " {seconds = " + std::to_string(gelu[b]) +
            "} : tensor<8x16xf32>\n";
    body += "    %r" + i + " = parc.reshape %h" + i + " : tensor<8x16xf32> -> tensor<128xf32>\n";
    body += "    %s" + i + " = parc.reshape %r" + i + " : tensor<128xf32> -> tensor<8x16xf32>\n";
    // The residual input's last use, without work: two tensors are live before it, one after.
    body += "    %z" + i + " = parc.add %s" + i + ", " + x +
            " : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>\n";
    body += "    %w" + i + " = parc.load_weight @w" + i + " : tensor<8x16xf32>\n";
    body += "    %e" + i + " = parc.add %z" + i + ", %w" + i +
            " {seconds = 1.0} : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>\n";
    body += "    %y" + i + " = parc.add %e" + i + ", %z" + i +
            " {seconds = 1.5} : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>\n";
  }
  return "module {\n" + weights +
         "  func.func @main(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {\n" + body +
         "    return %y3 : tensor<8x16xf32>\n  }\n}\n";
}

double secondsOf(Operation *op) {
  auto seconds = op->getAttrOfType<FloatAttr>("seconds");
  return seconds ? seconds.getValueAsDouble() : 0;
}

double bytesOf(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getNumElements() * 4.0;
}

/// A cut's cost: its slowest stage's load plus receive, and the bytes sent in all.
struct CutCost {
  double slowest = 0, bytes = 0;
};

/// The cost of giving the ops of `body` the stages in `stageOf`: a stage receives every
/// value made in an earlier stage that it or a later one reads (weights are loaded, not
/// sent).
CutCost costOf(ArrayRef<Operation *> body, ArrayRef<int64_t> stageOf, int64_t stages) {
  std::vector<double> load(stages, 0), received(stages, 0);
  llvm::DenseMap<Operation *, int64_t> stage;
  for (auto [op, s] : llvm::zip(body, stageOf))
    stage[op] = s;
  for (auto [op, s] : llvm::zip(body, stageOf)) {
    load[s] += secondsOf(op);
    if (isa<LoadWeightOp>(op))
      continue;
    for (Value result : op->getResults()) {
      int64_t last = s;
      for (Operation *user : result.getUsers())
        last = std::max(last, stage.lookup(user));
      for (int64_t t = s + 1; t <= last; ++t)
        received[t] += bytesOf(result);
    }
  }
  CutCost cost;
  for (int64_t s = 0; s < stages; ++s) {
    cost.slowest = std::max(cost.slowest, load[s] + received[s] / kLinkBytesPerSecond);
    cost.bytes += received[s];
  }
  return cost;
}

/// The best cost over every cut of `body` into `stages` contiguous stages, each with an op
/// with work. (Where a weight load goes does not matter: it has no work and is not sent.)
CutCost bestOfEveryCut(ArrayRef<Operation *> body, int64_t stages) {
  size_t n = body.size();
  CutCost best{INFINITY, INFINITY};
  std::vector<size_t> starts(stages, 0);
  std::function<void(int64_t)> choose = [&](int64_t k) {
    if (k == stages) {
      std::vector<int64_t> stageOf(n);
      for (int64_t s = 0; s < stages; ++s)
        for (size_t i = starts[s]; i < (s + 1 < stages ? starts[s + 1] : n); ++i)
          stageOf[i] = s;
      for (int64_t s = 0; s < stages; ++s) {
        double load = 0;
        for (size_t i = 0; i < n; ++i)
          load += stageOf[i] == s ? secondsOf(body[i]) : 0;
        if (load == 0)
          return;
      }
      CutCost cost = costOf(body, stageOf, stages);
      if (cost.slowest < best.slowest - 1e-9 ||
          (std::abs(cost.slowest - best.slowest) <= 1e-9 && cost.bytes < best.bytes))
        best = cost;
      return;
    }
    for (size_t i = starts[k - 1] + 1; i < n; ++i) {
      starts[k] = i;
      choose(k + 1);
    }
  };
  choose(1);
  return best;
}

TEST(StagePartitioner, WeighedCutIsTheBestOfEveryCut) {
  MLIRContext context;
  context.loadDialect<ParcDialect, func::FuncDialect>();
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(program(), &context);
  ASSERT_TRUE(module);
  auto function = *module->getOps<func::FuncOp>().begin();
  std::vector<Operation *> body;
  for (Operation &op : function.front())
    body.push_back(&op);
  StageCostModel model;
  model.opSeconds = secondsOf;
  model.linkBytesPerSecond = kLinkBytesPerSecond;
  for (int64_t stages = 2; stages <= 5; ++stages) {
    FailureOr<StagePartition> cut = partitionStages(function, stages, 0, nullptr, true, model);
    ASSERT_TRUE(succeeded(cut)) << stages << " stages";
    CutCost got = costOf(body, cut->stageOfOp, stages);
    CutCost want = bestOfEveryCut(body, stages);
    EXPECT_NEAR(got.slowest, want.slowest, 1e-9) << stages << " stages";
    EXPECT_EQ(got.bytes, want.bytes) << stages << " stages";
    // The fill alone balances the load only; the weighed cut is never slower.
    FailureOr<StagePartition> fill = partitionStages(function, stages, 0, nullptr, false, model);
    ASSERT_TRUE(succeeded(fill));
    EXPECT_LE(got.slowest, costOf(body, fill->stageOfOp, stages).slowest + 1e-9);
  }
}

} // namespace
