//===- KernelRegistry.cpp - which CPU kernel runs each instruction --------===//

#include "KernelRegistry.h"

using namespace parc::rt;
using namespace parc::rt::cpu;

void KernelRegistry::add(const std::string &op, KernelBinder binder) {
  binders[op] = std::move(binder);
}

const KernelBinder *KernelRegistry::find(const std::string &op) const {
  auto it = binders.find(op);
  return it == binders.end() ? nullptr : &it->second;
}

Status cpu::expectArity(const std::vector<TensorRef> &in, const std::vector<TensorRef> &out,
                        size_t operands, size_t results) {
  if (in.size() == operands && out.size() == results)
    return Status::ok();
  return Status::error("expects " + std::to_string(operands) + " operands and " +
                       std::to_string(results) + (results == 1 ? " result" : " results"));
}
