//===- AddLoss.cpp - a training loss on @main's output --------------------===//
//
// Adds the graph input `labels` and replaces @main's results by one scalar loss of its
// first output; see the pass description.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::parc {
#define GEN_PASS_DEF_ADDLOSSPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct AddLossPass : mlir::parc::impl::AddLossPassBase<AddLossPass> {
  using AddLossPassBase::AddLossPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal())
      return;
    if (failed(addLoss(main)))
      signalPassFailure();
  }

  LogicalResult addLoss(func::FuncOp main) {
    if (loss != "cross_entropy" && loss != "mse")
      return main.emitError("--loss=") << loss.getValue() << ": expected cross_entropy or mse";
    Operation *terminator = main.front().getTerminator();
    if (terminator->getNumOperands() == 0)
      return main.emitError("the model has no output to put a loss on");
    Value output = terminator->getOperand(0);
    auto outputType = cast<RankedTensorType>(output.getType());
    if (!outputType.getElementType().isF32())
      return main.emitError("--loss needs an f32 first output, not ") << outputType;
    MLIRContext *context = main.getContext();
    SmallVector<DictionaryAttr> argAttrs;
    main.getAllArgAttrs(argAttrs);
    OpBuilder b(terminator);
    Location loc = NameLoc::get(StringAttr::get(context, "loss"));
    Type f32 = b.getF32Type();
    auto scalarType = RankedTensorType::get({}, f32);
    auto allAxes = [](int64_t rank) {
      SmallVector<int64_t> axes(rank);
      for (int64_t i = 0; i < rank; ++i)
        axes[i] = i;
      return axes;
    };

    RankedTensorType labelsType;
    Value lossValue;
    BlockArgument labels;
    if (loss == "cross_entropy") {
      // mean over positions of -log_softmax(logits)[label], as F.cross_entropy.
      if (outputType.getRank() < 1)
        return main.emitError("--loss=cross_entropy needs logits with a class dimension");
      int64_t classes = outputType.getShape().back();
      labelsType = RankedTensorType::get(outputType.getShape().drop_back(), b.getI64Type());
      labels = main.front().addArgument(labelsType, loc);
      int64_t rank = outputType.getRank();
      Value logProbabilities = LogSoftmaxOp::create(b, loc, outputType, output,
                                                    b.getI64IntegerAttr(rank - 1));
      // One-hot of the labels: labels[..., None] == [0, 1, ..., classes - 1].
      SmallVector<int64_t> column(labelsType.getShape());
      column.push_back(1);
      Value labelColumn = ReshapeOp::create(
          b, loc, RankedTensorType::get(column, b.getI64Type()), labels);
      SmallVector<int64_t> classIds(classes);
      for (int64_t i = 0; i < classes; ++i)
        classIds[i] = i;
      auto idsType = RankedTensorType::get({classes}, b.getI64Type());
      Value ids = ConstantOp::create(b, loc, DenseElementsAttr::get(idsType, ArrayRef(classIds)));
      Value hits = EqualOp::create(
          b, loc, RankedTensorType::get(outputType.getShape(), b.getI1Type()), labelColumn, ids);
      Value oneHot = ConvertOp::create(b, loc, outputType, hits);
      Value picked = MulOp::create(b, loc, outputType, logProbabilities, oneHot);
      Value total = ReduceMeanOp::create(b, loc, scalarType, picked,
                                         b.getDenseI64ArrayAttr(allAxes(rank)), UnitAttr());
      // The mean over all entries is the mean over positions divided by the class count.
      lossValue = MulOp::create(b, loc, scalarType, total, ConstantOp::create(b, loc, scalarType, -double(classes)));
    } else {
      labelsType = outputType;
      labels = main.front().addArgument(labelsType, loc);
      Value difference = SubOp::create(b, loc, outputType, output, labels);
      Value square = MulOp::create(b, loc, outputType, difference, difference);
      lossValue = ReduceMeanOp::create(b, loc, scalarType, square,
                                       b.getDenseI64ArrayAttr(allAxes(outputType.getRank())),
                                       UnitAttr());
    }
    terminator->setOperands(lossValue);
    main.setFunctionType(FunctionType::get(context, main.front().getArgumentTypes(),
                                           {scalarType}));
    // Under data parallelism and microbatches the program is one share of the batch: so
    // are its labels.
    SmallVector<NamedAttribute> labelAttrs{
        b.getNamedAttr(kOnnxNameAttr, b.getStringAttr("labels"))};
    auto microbatches = main->getAttrOfType<IntegerAttr>(kMicrobatchesAttr);
    int64_t count = microbatches ? microbatches.getInt() : 1;
    if (getMeshAxisSize(main, "dp").value_or(1) > 1 || count > 1)
      labelAttrs.push_back(b.getNamedAttr(kMicrobatchLayoutAttr,
                                          ShardingAttr::getSplit(context, 0, 1)));
    if (auto whole = main->getAttrOfType<TypeAttr>(kWholeBatchTypeAttr)) {
      // The whole batch's labels: every microbatch's.
      SmallVector<Type> inputs(cast<FunctionType>(whole.getValue()).getInputs());
      SmallVector<int64_t> shape(labelsType.getShape());
      if (!shape.empty())
        shape[0] *= count;
      inputs.push_back(RankedTensorType::get(shape, labelsType.getElementType()));
      main->setAttr(kWholeBatchTypeAttr,
                    TypeAttr::get(FunctionType::get(context, inputs, {scalarType})));
    }
    argAttrs.push_back(b.getDictionaryAttr(labelAttrs));
    main.setAllArgAttrs(argAttrs);
    SmallVector<DictionaryAttr> resultAttrs{
        b.getDictionaryAttr(b.getNamedAttr(kOnnxNameAttr, b.getStringAttr("loss")))};
    main.setAllResultAttrs(resultAttrs);
    return success();
  }
};

} // namespace
