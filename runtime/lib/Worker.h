//===- Worker.h - one rank of parc-run --------------------------*- C++ -*-===//

#ifndef PARC_RUNTIME_LIB_WORKER_H
#define PARC_RUNTIME_LIB_WORKER_H

#include "LaunchOptions.h"

#include <string>

namespace parc::artifact {
class Manifest;
} // namespace parc::artifact

namespace parc::rt {

/// Runs one rank: loads the artifact, reads the inputs, executes the rank's program and
/// writes the outputs this rank owns into the work folder. Errors go to
/// `<work>/rank<R>.error`; the exit code is non-zero on failure.
int runWorker(const LaunchOptions &options);

struct JobPlacement;
/// Runs one rank in this process as `placement` places it (a worker of parc-run's
/// launcher, or a rank torchrun, srun or mpirun started); returns the exit code. A failure
/// goes to the rank's error file (a worker) or standard error, and in a run across machines
/// to the job store, which ends the job on every node.
int runRankProcess(const LaunchOptions &options, const JobPlacement &placement);

/// The lowest rank that holds graph output `index` (the one that writes it), or -1.
int outputOwner(const parc::artifact::Manifest &manifest, int index);

/// The file an output is written to: its name with '/' replaced, plus ".npy".
std::string outputFileName(const std::string &outputName);

/// The third line of a rank's error file when it failed while connecting to the other
/// ranks (nothing ran yet, so the launcher may start the ranks again); not when it failed
/// before, loading the artifact, which a second start would not change.
constexpr const char *kConnectingMarker = "connecting";

/// The file a rank creates once every rank is connected, before anything runs: the
/// launcher starts the ranks again only when no rank got that far, so no output is
/// printed twice.
inline std::string connectedMarkerFile(const std::string &workDir, int rank) {
  return workDir + "/rank" + std::to_string(rank) + ".connected";
}



} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_WORKER_H
