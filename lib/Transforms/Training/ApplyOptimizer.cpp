//===- ApplyOptimizer.cpp - one optimizer step after the backward pass ----===//
//
// Turns the gradients parc-differentiate returned into weight updates written back with
// parc.assign_weight, with PyTorch's update formulas; see the pass description.
//
//===----------------------------------------------------------------------===//

#include "Training/GradientBuckets.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::parc {
#define GEN_PASS_DEF_APPLYOPTIMIZERPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct ApplyOptimizerPass : mlir::parc::impl::ApplyOptimizerPassBase<ApplyOptimizerPass> {
  using ApplyOptimizerPassBase::ApplyOptimizerPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    if (failed(apply(module, main)))
      signalPassFailure();
  }

  LogicalResult apply(ModuleOp module, func::FuncOp main) {
    if (optimizer != "sgd" && optimizer != "adamw")
      return main.emitError("--optimizer=") << optimizer.getValue() << ": expected sgd or adamw";
    if (zero != 0 && zero != 1)
      return main.emitError("--zero=") << zero.getValue() << ": only 0 and 1 are supported";
    if (zero == 1 && getMeshAxisSize(module, "dp").value_or(1) > 1 &&
        getMeshAxisSize(module, "tp").value_or(1) > 1)
      return main.emitError("--zero=1 with --tp is not supported yet");
    Operation *terminator = main.front().getTerminator();
    OpBuilder b(terminator);
    Location loc = NameLoc::get(b.getStringAttr(optimizer.getValue()));
    Type f32 = b.getF32Type();
    auto scalar = [&](double value) -> Value {
      return ConstantOp::create(b, loc, RankedTensorType::get({}, f32), value);
    };
    // An elementwise op of a tensor and a scalar (or two tensors of one shape).
    auto binary = [&](auto tag, Value l, Value r) -> Value {
      using OpTy = decltype(tag);
      Type type = cast<RankedTensorType>(l.getType()).getRank() >=
                          cast<RankedTensorType>(r.getType()).getRank()
                      ? l.getType()
                      : r.getType();
      return OpTy::create(b, loc, type, l, r);
    };
    auto mul = [&](Value l, Value r) { return binary(MulOp(), l, r); };
    SymbolTable symbols(module);
    // New state weights go after the model's, zero-initialized.
    OpBuilder moduleBuilder(module.getBodyRegion());
    moduleBuilder.setInsertionPoint(main);
    // A state weight is shaped and laid out as its weight (a tensor-parallel shard per
    // rank, whole in checkpoints) and loaded as this rank's part.
    // Under ZeRO-1 it is the flattened (padded) weight split over the dp ranks.
    std::optional<RankedTensorType> zeroWholeType;
    auto stateWeight = [&](StringRef name, RankedTensorType type,
                           StringRef owner = {}) -> Value {
      RankedTensorType wholeType = type;
      ShardingAttr sharding;
      if (auto weight = owner.empty() ? WeightOp() : symbols.lookup<WeightOp>(owner)) {
        wholeType = weight.getType();
        sharding = weight.getShardingAttr();
      }
      if (zeroWholeType && !owner.empty())
        wholeType = *zeroWholeType;
      auto weight = WeightOp::create(
          moduleBuilder, loc, name,
          DenseElementsAttr::get(wholeType,
                                 moduleBuilder.getFloatAttr(wholeType.getElementType(), 0.0)),
          sharding);
      weight->setAttr(kOptimizerStateAttr, moduleBuilder.getUnitAttr());
      if (!owner.empty())
        weight->setAttr(kStateOfAttr, moduleBuilder.getStringAttr(owner));
      if (zeroWholeType && !owner.empty())
        weight->setAttr(kDataParallelSplitAttr, moduleBuilder.getUnitAttr());
      symbols.insert(weight);
      return LoadWeightOp::create(b, loc, type, weight.getSymName());
    };

    // The step count t (after this step), for AdamW's bias corrections.
    Value step;
    if (optimizer == "adamw") {
      Value previous = stateWeight("optimizer.step", RankedTensorType::get({}, f32));
      step = binary(AddOp(), previous, scalar(1.0));
      AssignWeightOp::create(b, loc, "optimizer.step", step);
    }

    // A pipelined program is one microbatch's: the step's loss and gradients are the
    // average over the microbatches (an all-reduce over the microbatch axis, which
    // parc-build-pipeline turns into the sum it accumulates).
    // Data parallelism: each rank's loss and gradients are its share's; the global ones
    // are their average over the dp group.
    auto microbatchAttr = main->getAttrOfType<IntegerAttr>(kMicrobatchesAttr);
    int64_t dataParallel = getMeshAxisSize(module, "dp").value_or(1);
    auto averageMicrobatches = [&](Value value) -> Value {
      if (microbatchAttr) {
        value = AllReduceOp::create(b, loc, value.getType(), value,
                                    b.getStringAttr("microbatch"));
        if (microbatchAttr.getInt() > 1)
          value = mul(value, scalar(1.0 / microbatchAttr.getInt()));
      }
      return value;
    };
    auto average = [&](Value value) -> Value {
      value = averageMicrobatches(value);
      if (dataParallel <= 1)
        return value;
      Value sum = AllReduceOp::create(b, loc, value.getType(), value, b.getStringAttr("dp"));
      return mul(sum, scalar(1.0 / dataParallel));
    };
    SmallVector<Value> kept{average(terminator->getOperand(0))};
    // The reached weights' gradients, averaged: over dp in buckets whose all-reduces
    // overlap the backward pass, when the program is not pipelined (a pipeline stage sums
    // its gradients after its last microbatch).
    SmallVector<std::pair<StringRef, Value>> reached;
    for (unsigned i = 1; i < terminator->getNumOperands(); ++i) {
      auto name = main.getResultAttrOfType<StringAttr>(i, kOnnxNameAttr);
      if (!name || !name.getValue().starts_with("grad:"))
        return main.emitError("result ") << i << " is not a weight gradient (run parc-differentiate)";
      // PyTorch leaves a parameter the loss does not reach alone (its .grad is None).
      if (!main.getResultAttr(i, kUnreachedGradientAttr))
        reached.push_back({name.getValue().drop_front(5), terminator->getOperand(i)});
    }
    bool zeroSharded = zero == 1 && dataParallel > 1;
    SmallVector<Value> averaged;
    if (zeroSharded) {
      // Summed by the reduce-scatter below, each rank getting its part.
      for (auto &[name, gradient] : reached)
        averaged.push_back(averageMicrobatches(gradient));
    } else if (dataParallel > 1 && !microbatchAttr && bucketBytes > 0) {
      SmallVector<Value> gradients;
      for (auto &[name, gradient] : reached)
        gradients.push_back(gradient);
      for (Value sum : allReduceInBuckets(b, loc, gradients, "dp", bucketBytes))
        averaged.push_back(mul(sum, scalar(1.0 / dataParallel)));
    } else {
      for (auto &[name, gradient] : reached)
        averaged.push_back(average(gradient));
    }
    for (auto [entry, averagedGradient] : llvm::zip(reached, averaged)) {
      StringRef weightName = entry.first;
      Value gradient = averagedGradient;
      auto weightType = cast<RankedTensorType>(gradient.getType());
      auto type = weightType;
      Value weight = LoadWeightOp::create(b, loc, type, weightName);
      // ZeRO-1: each dp rank updates its part of the flattened weight (padded to a
      // multiple of the dp ranks) from its part of the summed gradient (a reduce-scatter)
      // and keeps optimizer state for that part only; an all-gather puts the weight back
      // together.
      int64_t elements = weightType.getNumElements();
      int64_t padded = (elements + dataParallel - 1) / dataParallel * dataParallel;
      auto flatType = RankedTensorType::get({padded}, weightType.getElementType());
      zeroWholeType.reset();
      if (zeroSharded) {
        auto flatten = [&](Value value) -> Value {
          Value flat = ReshapeOp::create(
              b, loc, RankedTensorType::get({elements}, weightType.getElementType()), value);
          if (padded == elements)
            return flat;
          Value zeros = ConstantOp::create(
              b, loc, RankedTensorType::get({padded - elements}, weightType.getElementType()),
              0.0);
          return ConcatOp::create(b, loc, flatType, ValueRange{flat, zeros},
                                  b.getI64IntegerAttr(0));
        };
        type = RankedTensorType::get({padded / dataParallel}, weightType.getElementType());
        StringAttr dp = b.getStringAttr("dp");
        gradient = ReduceScatterOp::create(b, loc, type, flatten(gradient),
                                           b.getI64IntegerAttr(0), dp);
        gradient = mul(gradient, scalar(1.0 / dataParallel));
        weight = ShardSliceOp::create(b, loc, type, flatten(weight), b.getI64IntegerAttr(0),
                                      b.getI64IntegerAttr(1), dp);
        zeroWholeType = flatType;
      }
      Value updated;
      if (optimizer == "sgd") {
        // d = g + wd w; buf = momentum buf + d; w -= lr buf (torch.optim.SGD, dampening 0).
        Value direction = gradient;
        if (weightDecay != 0)
          direction = binary(AddOp(), direction, mul(weight, scalar(weightDecay)));
        if (momentum != 0) {
          std::string bufferName = (weightName + ".momentum_buffer").str();
          Value buffer = stateWeight(bufferName, type, weightName);
          direction = binary(AddOp(), mul(buffer, scalar(momentum)), direction);
          AssignWeightOp::create(b, loc, bufferName, direction);
        }
        updated = binary(SubOp(), weight, mul(direction, scalar(learningRate)));
      } else {
        // torch.optim.AdamW: w *= 1 - lr wd; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
        // w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
        std::string mName = (weightName + ".exp_avg").str();
        std::string vName = (weightName + ".exp_avg_sq").str();
        Value m = stateWeight(mName, type, weightName);
        Value v = stateWeight(vName, type, weightName);
        Value decayed = mul(weight, scalar(1.0 - learningRate * weightDecay));
        Value newM = binary(AddOp(), mul(m, scalar(beta1)), mul(gradient, scalar(1.0 - beta1)));
        Value newV = binary(AddOp(), mul(v, scalar(beta2)),
                            mul(mul(gradient, gradient), scalar(1.0 - beta2)));
        AssignWeightOp::create(b, loc, mName, newM);
        AssignWeightOp::create(b, loc, vName, newV);
        Value correction1 = binary(SubOp(), scalar(1.0), binary(PowOp(), scalar(beta1), step));
        Value correction2 = binary(SubOp(), scalar(1.0), binary(PowOp(), scalar(beta2), step));
        Value stepSize = binary(DivOp(), scalar(learningRate), correction1);
        Value denominator =
            binary(AddOp(), binary(DivOp(), SqrtOp::create(b, loc, type, newV),
                                   SqrtOp::create(b, loc, correction2.getType(), correction2)),
                   scalar(epsilon));
        updated = binary(SubOp(), decayed,
                         mul(binary(DivOp(), newM, denominator), stepSize));
      }
      if (zeroSharded) {
        updated = AllGatherOp::create(b, loc, flatType, updated, b.getI64IntegerAttr(0),
                                      b.getStringAttr("dp"));
        if (padded != elements)
          updated = SliceOp::create(
              b, loc, RankedTensorType::get({elements}, weightType.getElementType()), updated,
              b.getDenseI64ArrayAttr({0}), b.getDenseI64ArrayAttr({elements}),
              b.getDenseI64ArrayAttr({1}));
        updated = ReshapeOp::create(b, loc, weightType, updated);
      }
      AssignWeightOp::create(b, loc, weightName, updated);
    }
    terminator->setOperands(kept);
    SmallVector<DictionaryAttr> resultAttrs;
    main.getAllResultAttrs(resultAttrs);
    resultAttrs.resize(1);
    main.setFunctionType(
        FunctionType::get(main.getContext(), main.getArgumentTypes(), {kept[0].getType()}));
    main.setAllResultAttrs(resultAttrs);
    main->setAttr(kTrainingAttr, b.getUnitAttr());
    return success();
  }
};

} // namespace
