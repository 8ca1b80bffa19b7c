//===- BackendRegistry.h - the backends parc-run can run on -----*- C++ -*-===//
//
// Each backend is found by the target an artifact records (`cpu`, `cuda`): the launcher
// asks it whether this machine can run the artifact before starting any rank, and each
// rank asks it for its Backend. Nothing else in the runtime compares target names.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_BACKENDREGISTRY_H
#define PARC_RUNTIME_LIB_BACKENDREGISTRY_H

#include "LaunchOptions.h"

#include "parc/Runtime/Backend.h"
#include "parc/Runtime/Status.h"

#include <memory>
#include <string>

namespace parc::artifact {
class Manifest;
}

namespace parc::rt {

struct BackendProvider {
  /// The artifact target it runs.
  const char *target;
  /// In the launcher, before any rank starts: ok when this machine can run `manifest`
  /// (printing how, where that matters), else why not, as "targets T, but ...".
  Status (*checkMachine)(const parc::artifact::Manifest &manifest);
  /// In rank `options.rank`: its backend, with `threads` host threads for kernels, or
  /// null with `status` set.
  std::unique_ptr<Backend> (*create)(const parc::artifact::Manifest &manifest,
                                     const LaunchOptions &options,
                                     const CommunicatorGroups &groups, int threads,
                                     Status &status);
};

/// The backend running artifacts of `target` (an artifact without one is cpu), or null.
const BackendProvider *findBackendProvider(const std::string &target);

/// The providers, defined beside their backends.
const BackendProvider &cpuBackendProvider();
const BackendProvider &cudaBackendProvider();

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_BACKENDREGISTRY_H
