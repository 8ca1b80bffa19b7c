//===- InstructionParams.cpp - what an instruction carries ----------------===//

#include "InstructionParams.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::parc;
namespace pa = ::parc::artifact;

namespace {

int64_t intOf(Attribute attr) { return cast<IntegerAttr>(attr).getInt(); }

void copyInts(Attribute attr, google::protobuf::RepeatedField<int64_t> *into) {
  for (int64_t value : cast<DenseI64ArrayAttr>(attr).asArrayRef())
    into->Add(value);
}

} // namespace

LogicalResult mlir::parc::setComputeParams(Operation *op, pa::Instruction &inst) {
  ArrayRef<StringAttr> declared;
  if (std::optional<RegisteredOperationName> name = op->getRegisteredInfo())
    declared = name->getAttributeNames();
  // Whether the op declares exactly `names`; optional unit attributes (keep_dims, fmod,
  // ...) count when declared, set or not.
  auto exactly = [&](std::initializer_list<StringRef> names) {
    return declared.size() == names.size() && llvm::all_of(declared, [&](StringAttr attr) {
             return llvm::is_contained(names, attr.getValue());
           });
  };
  if (exactly({}))
    return success();
  if (exactly({"axis"})) {
    inst.mutable_axis()->set_axis(intOf(op->getAttr("axis")));
    return success();
  }
  if (exactly({"axes", "keep_dims"})) {
    copyInts(op->getAttr("axes"), inst.mutable_reduce()->mutable_axes());
    inst.mutable_reduce()->set_keep_dims(op->hasAttr("keep_dims"));
    return success();
  }
  if (exactly({"permutation"})) {
    copyInts(op->getAttr("permutation"), inst.mutable_transpose()->mutable_permutation());
    return success();
  }
  if (exactly({"start_indices", "limit_indices", "strides"})) {
    copyInts(op->getAttr("start_indices"), inst.mutable_slice()->mutable_start_indices());
    copyInts(op->getAttr("strides"), inst.mutable_slice()->mutable_strides());
    return success();
  }
  if (exactly({"fmod"})) {
    inst.mutable_mod()->set_fmod(op->hasAttr("fmod"));
    return success();
  }
  if (exactly({"axis", "k", "largest"})) {
    pa::TopKParams &topK = *inst.mutable_top_k();
    topK.set_axis(intOf(op->getAttr("axis")));
    topK.set_k(intOf(op->getAttr("k")));
    topK.set_largest(op->hasAttr("largest"));
    return success();
  }
  if (exactly({"tanh_approximation"})) {
    inst.mutable_gelu()->set_tanh_approximation(op->hasAttr("tanh_approximation"));
    return success();
  }
  std::string names;
  for (StringAttr attr : declared)
    names += (names.empty() ? "" : ", ") + attr.str();
  return op->emitOpError("has attributes (") << names
                                             << ") that no instruction params of the "
                                                "artifact schema carry";
}

void mlir::parc::setScheduleStep(Operation *op, pa::Instruction &inst) {
  auto chunk = op->getAttrOfType<IntegerAttr>(kChunkAttr);
  auto microbatch = op->getAttrOfType<IntegerAttr>(kMicrobatchAttr);
  if (!chunk && !microbatch)
    return;
  pa::ScheduleStep &step = *inst.mutable_step();
  step.set_chunk(chunk ? chunk.getInt() : 0);
  step.set_microbatch(microbatch ? microbatch.getInt() : 0);
  step.set_backward(op->hasAttr(kBackwardStepAttr));
  step.set_recomputed(op->hasAttr(kRecomputedAttr));
}
