//===- BackendRegistry.cpp - the backends parc-run can run on -------------===//

#include "BackendRegistry.h"

using namespace parc::rt;

const BackendProvider *parc::rt::findBackendProvider(const std::string &target) {
  for (const BackendProvider *provider : {&cpuBackendProvider(), &cudaBackendProvider()})
    if (target == provider->target || (target.empty() && std::string(provider->target) == "cpu"))
      return provider;
  return nullptr;
}
