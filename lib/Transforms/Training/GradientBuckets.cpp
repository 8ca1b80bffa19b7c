//===- GradientBuckets.cpp - data-parallel gradient sums in buckets -------===//

#include "Training/GradientBuckets.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

using namespace mlir;
using namespace mlir::parc;

SmallVector<Value> mlir::parc::allReduceInBuckets(OpBuilder &builder, Location loc,
                                                  ArrayRef<Value> gradients, StringRef group,
                                                  int64_t bucketBytes) {
  // The order the backward pass completes the gradients in (values it does not compute,
  // such as arguments, come last).
  SmallVector<unsigned> order;
  for (unsigned i = 0; i < gradients.size(); ++i)
    order.push_back(i);
  Block *block = builder.getInsertionBlock();
  auto definedHere = [&](Value value) {
    Operation *def = value.getDefiningOp();
    return def && def->getBlock() == block ? def : nullptr;
  };
  llvm::stable_sort(order, [&](unsigned a, unsigned b) {
    Operation *first = definedHere(gradients[a]), *second = definedHere(gradients[b]);
    if (!first || !second)
      return first && !second;
    return first->isBeforeInBlock(second);
  });
  // Buckets in that order, each of one element type.
  SmallVector<SmallVector<unsigned>> buckets;
  int64_t filled = 0;
  Type elementType;
  for (unsigned i : order) {
    auto type = cast<RankedTensorType>(gradients[i].getType());
    int64_t bytes = getStorageBytes(type);
    if (buckets.empty() || type.getElementType() != elementType ||
        (filled > 0 && filled + bytes > bucketBytes)) {
      buckets.emplace_back();
      filled = 0;
      elementType = type.getElementType();
    }
    buckets.back().push_back(i);
    filled += bytes;
  }

  SmallVector<Value> summed(gradients.size());
  for (auto [tag, bucket] : llvm::enumerate(buckets)) {
    // Started once its last gradient exists.
    OpBuilder start(builder.getContext());
    if (Operation *last = definedHere(gradients[bucket.back()]))
      start.setInsertionPointAfter(last);
    else
      start.setInsertionPoint(builder.getInsertionBlock(), builder.getInsertionPoint());
    SmallVector<Value> flats;
    int64_t total = 0;
    for (unsigned i : bucket) {
      auto type = cast<RankedTensorType>(gradients[i].getType());
      auto flat = RankedTensorType::get({type.getNumElements()}, type.getElementType());
      flats.push_back(ReshapeOp::create(start, loc, flat, gradients[i]));
      total += type.getNumElements();
    }
    auto bucketType = RankedTensorType::get(
        {total}, cast<RankedTensorType>(gradients[bucket.front()].getType()).getElementType());
    Value joined = flats.size() == 1
                       ? flats.front()
                       : ConcatOp::create(start, loc, bucketType, flats,
                                          start.getI64IntegerAttr(0))
                             .getResult();
    StringAttr groupAttr = builder.getStringAttr(group);
    IntegerAttr tagAttr = builder.getI64IntegerAttr(tag);
    Value started = AllReduceStartOp::create(start, loc, bucketType, joined, groupAttr, tagAttr);
    // Finished where the sums are needed, and cut back into the gradients.
    Value bucketSum = AllReduceWaitOp::create(builder, loc, bucketType, started, groupAttr, tagAttr);
    int64_t offset = 0;
    for (unsigned i : bucket) {
      auto type = cast<RankedTensorType>(gradients[i].getType());
      int64_t size = type.getNumElements();
      Value piece = bucketSum;
      if (bucket.size() > 1)
        piece = SliceOp::create(
            builder, loc, RankedTensorType::get({size}, type.getElementType()), bucketSum,
            builder.getDenseI64ArrayAttr({offset}), builder.getDenseI64ArrayAttr({offset + size}),
            builder.getDenseI64ArrayAttr({1}));
      summed[i] = ReshapeOp::create(builder, loc, type, piece);
      offset += size;
    }
  }
  return summed;
}
