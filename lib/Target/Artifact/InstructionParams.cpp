//===- InstructionParams.cpp - what an instruction carries ----------------===//

#include "InstructionParams.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"
#include "parc/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::parc;
namespace pa = ::parc::artifact;

namespace {

/// The op's declared attributes that are set, by name.
llvm::StringMap<Attribute> declaredAttributes(Operation *op) {
  llvm::StringMap<Attribute> attributes;
  if (std::optional<RegisteredOperationName> name = op->getRegisteredInfo())
    for (StringAttr declared : name->getAttributeNames())
      if (Attribute value = op->getAttr(declared))
        attributes[declared.getValue()] = value;
  return attributes;
}

int64_t intOf(Attribute attr) { return cast<IntegerAttr>(attr).getInt(); }

void copyInts(Attribute attr, google::protobuf::RepeatedField<int64_t> *into) {
  for (int64_t value : cast<DenseI64ArrayAttr>(attr).asArrayRef())
    into->Add(value);
}

} // namespace

LogicalResult mlir::parc::setComputeParams(Operation *op, pa::Instruction &inst) {
  llvm::StringMap<Attribute> attrs = declaredAttributes(op);
  auto exactly = [&](std::initializer_list<StringRef> names) {
    // Optional unit attributes (keep_dims, fmod, ...) count when declared, set or not.
    llvm::StringSet<> declared;
    if (std::optional<RegisteredOperationName> name = op->getRegisteredInfo())
      for (StringAttr attr : name->getAttributeNames())
        declared.insert(attr.getValue());
    if (declared.size() != names.size())
      return false;
    for (StringRef name : names)
      if (!declared.contains(name))
        return false;
    return true;
  };
  auto has = [&](StringRef name) { return attrs.count(name) != 0; };
  if (exactly({}))
    return success();
  if (exactly({"axis"})) {
    inst.mutable_axis()->set_axis(intOf(attrs.lookup("axis")));
    return success();
  }
  if (exactly({"axes", "keep_dims"})) {
    copyInts(attrs.lookup("axes"), inst.mutable_reduce()->mutable_axes());
    inst.mutable_reduce()->set_keep_dims(has("keep_dims"));
    return success();
  }
  if (exactly({"permutation"})) {
    copyInts(attrs.lookup("permutation"), inst.mutable_transpose()->mutable_permutation());
    return success();
  }
  if (exactly({"start_indices", "limit_indices", "strides"})) {
    copyInts(attrs.lookup("start_indices"), inst.mutable_slice()->mutable_start_indices());
    copyInts(attrs.lookup("strides"), inst.mutable_slice()->mutable_strides());
    return success();
  }
  if (exactly({"fmod"})) {
    inst.mutable_mod()->set_fmod(has("fmod"));
    return success();
  }
  if (exactly({"tanh_approximation"})) {
    inst.mutable_gelu()->set_tanh_approximation(has("tanh_approximation"));
    return success();
  }
  std::string names;
  if (std::optional<RegisteredOperationName> name = op->getRegisteredInfo())
    for (StringAttr attr : name->getAttributeNames())
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
