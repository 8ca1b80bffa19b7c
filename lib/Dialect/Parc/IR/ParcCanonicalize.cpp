//===- ParcCanonicalize.cpp - canonicalization patterns of parc ops -------===//
//
// Rewrites that bring ops into the simplest form the partitioner reasons about. A gather with
// constant, consecutive indices (a positional-embedding lookup of arange(seq), or the pick
// of q/k/v out of a packed projection) is a slice: it becomes parc.slice + parc.reshape. A
// gather of one repeated index (BERT's all-zero token types) is a slice broadcast.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/HostTensor.h"
#include "parc/Dialect/Parc/IR/ParcOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::parc;

namespace {

/// gather(x, [s, s+1, ..., s+n-1]) along axis a == reshape(slice(x, a, [s, s+n))), and
/// gather(x, [s, s, ..., s]) == broadcast_to(reshape(slice(x, a, [s, s+1)))).
struct GatherOfConsecutiveIndices : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    Attribute indicesAttr;
    if (!matchPattern(op.getIndices(), m_Constant(&indicesAttr)))
      return failure();
    std::optional<HostTensor> indices = HostTensor::fromAttr(indicesAttr);
    if (!indices || indices->size() == 0)
      return failure();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    int64_t axis = op.getAxis();
    int64_t dim = inputType.getDimSize(axis);
    auto normalized = [&](int64_t k) {
      int64_t index = indices->getInt(k);
      return index < 0 ? index + dim : index;
    };
    int64_t start = normalized(0), count = indices->size();
    bool consecutive = true, repeated = true;
    for (int64_t k = 0; k < count; ++k) {
      consecutive &= normalized(k) == start + k;
      repeated &= normalized(k) == start;
    }
    if (repeated && count > 1)
      count = 1;
    else if (!consecutive)
      return failure();
    if (start < 0 || start + count > dim)
      return failure();

    SmallVector<int64_t> starts(inputType.getRank(), 0);
    SmallVector<int64_t> limits(inputType.getShape());
    SmallVector<int64_t> strides(inputType.getRank(), 1);
    starts[axis] = start;
    limits[axis] = start + count;
    SmallVector<int64_t> slicedShape(inputType.getShape());
    slicedShape[axis] = count;
    auto slicedType =
        RankedTensorType::get(slicedShape, inputType.getElementType());
    Value sliced = SliceOp::create(rewriter, op.getLoc(), slicedType,
                                   op.getInput(),
                                   rewriter.getDenseI64ArrayAttr(starts),
                                   rewriter.getDenseI64ArrayAttr(limits),
                                   rewriter.getDenseI64ArrayAttr(strides));
    if (count == indices->size()) {
      rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), sliced);
      return success();
    }
    // One row repeated: give it the result's rank with unit index dims, then broadcast.
    SmallVector<int64_t> unitShape(inputType.getShape().take_front(axis));
    unitShape.append(indices->getShape().size(), 1);
    llvm::append_range(unitShape, inputType.getShape().drop_front(axis + 1));
    Value row = ReshapeOp::create(
        rewriter, op.getLoc(),
        RankedTensorType::get(unitShape, inputType.getElementType()), sliced);
    rewriter.replaceOpWithNewOp<BroadcastToOp>(op, op.getType(), row);
    return success();
  }
};

} // namespace

void GatherOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<GatherOfConsecutiveIndices>(context);
}
