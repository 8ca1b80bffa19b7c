//===- InstructionAttributes.cpp - reading an instruction's attributes ----===//
//
// Shared by every backend (the CUDA backend's library links it too, so it lives apart
// from the executor).
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Backend.h"

#include "parc/artifact/artifact.pb.h"

using namespace parc::rt;
namespace pa = parc::artifact;

const pa::Attribute *InstructionAttributes::find(const std::string &name) const {
  for (const pa::Attribute &attr : inst.attributes())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

bool InstructionAttributes::has(const std::string &name) const { return find(name); }

int64_t InstructionAttributes::getInt(const std::string &name,
                                      int64_t defaultValue) const {
  const pa::Attribute *attr = find(name);
  return attr ? attr->i() : defaultValue;
}

std::string InstructionAttributes::getString(const std::string &name) const {
  const pa::Attribute *attr = find(name);
  return attr ? attr->s() : "";
}

std::vector<int64_t>
InstructionAttributes::getInts(const std::string &name) const {
  const pa::Attribute *attr = find(name);
  if (!attr)
    return {};
  return std::vector<int64_t>(attr->ints().values().begin(), attr->ints().values().end());
}
