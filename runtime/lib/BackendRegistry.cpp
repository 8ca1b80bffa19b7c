//===- BackendRegistry.cpp - the backends parc-run can run on -------------===//

#include "BackendRegistry.h"

using namespace parc::rt;

const BackendProvider *parc::rt::findBackendProvider(const std::string &target) {
  const std::string name = target.empty() ? "cpu" : target;
  for (const BackendProvider *provider : {&cpuBackendProvider(), &cudaBackendProvider()})
    if (name == provider->target)
      return provider;
  return nullptr;
}
