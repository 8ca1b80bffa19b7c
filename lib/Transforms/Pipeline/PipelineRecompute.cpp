//===- PipelineRecompute.cpp - what backward steps recompute --------------===//
//
// Which forward ops each chunk's backward step computes again, under the --recompute
// policy and the activation budget of the stage's microbatches in flight.
//
//===----------------------------------------------------------------------===//

#include "Pipeline/PipelineBuilder.h"

using namespace mlir;
using namespace mlir::parc;
using namespace mlir::parc::pipeline;

LogicalResult PipelineBuilder::planRecompute(RecomputePolicy policy, double budgetBytes,
                                             ArrayRef<int64_t> inFlight) {
  recomputedOps.assign(chunks, {});
  recomputedFlopsOf.assign(stages, 0.0);
  keptBytesOf.assign(stages, 0.0);
  if (!training)
    return success();
  // A backward op on this stage reads `value` (other stages received their copy).
  auto readByBackwardOn = [&](Operation *user, int64_t rank) {
    return kindOf.lookup(user) == OpKind::Backward && rankOf(chunkOf.lookup(user)) == rank;
  };
  auto free = [&](Value value) {
    Operation *def = value.getDefiningOp();
    return !def || isFree(def);
  };
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    int64_t rank = rankOf(chunk);
    auto usedByBackward = [&](Value value) {
      return llvm::any_of(value.getUsers(),
                          [&](Operation *user) { return readByBackwardOn(user, rank); });
    };
    ChunkActivations activations{forwardOps[chunk], usedByBackward, free};
    // inFlight counts chunk passes: each of a stage's chunks keeps its share per pass.
    int64_t passes = std::max<int64_t>(1, inFlight[rank]);
    RecomputeChoice choice = chooseRecomputed(activations, policy, budgetBytes / double(passes));
    if (!choice.fits)
      return main.emitError("--memory-budget=")
             << int64_t(budgetBytes) << ": even full recomputation keeps about "
             << int64_t(choice.keptBytes * passes) << " bytes of activations on stage "
             << rank;
    // The modelled activation memory: what each microbatch in flight keeps.
    keptBytesOf[rank] += choice.keptBytes * inFlight[rank] / double(chunks / stages);
    const llvm::DenseSet<Operation *> &chosen = choice.ops;
    // Only what the backward step reads, directly or through other recomputed ops.
    llvm::DenseSet<Operation *> needed;
    for (Operation *op : llvm::reverse(forwardOps[chunk])) {
      if (!chosen.contains(op))
        continue;
      bool read = llvm::any_of(op->getUsers(), [&](Operation *user) {
        return readByBackwardOn(user, rank) || needed.contains(user);
      });
      if (read)
        needed.insert(op);
    }
    for (Operation *op : forwardOps[chunk])
      if (needed.contains(op))
        recomputedOps[chunk].push_back(op);
  }
  return success();
}
