//===- SetMesh.cpp - the module's data- and tensor-parallel mesh ----------===//
//
// Gives the module its `parc.mesh` (dp, pp = 1, tp); see the pass description.
//
//===----------------------------------------------------------------------===//

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::parc {
#define GEN_PASS_DEF_SETMESHPASS
#include "parc/Transforms/Passes.h.inc"
} // namespace mlir::parc

using namespace mlir;
using namespace mlir::parc;

namespace {

struct SetMeshPass : mlir::parc::impl::SetMeshPassBase<SetMeshPass> {
  using SetMeshPassBase::SetMeshPassBase;

  void runOnOperation() override {
    Builder b(&getContext());
    getOperation()->setAttr(
        kMeshAttr, b.getDictionaryAttr({b.getNamedAttr("dp", b.getI64IntegerAttr(dp)),
                                        b.getNamedAttr("pp", b.getI64IntegerAttr(1)),
                                        b.getNamedAttr("tp", b.getI64IntegerAttr(tp))}));
  }
};

} // namespace
