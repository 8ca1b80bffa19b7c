//===- JobPlacement.h - which rank this process is, and where ---*- C++ -*-===//
//
// A run across machines is started one of two ways. parc-run's own per-node launcher
// (torchrun's flags: --nnodes --node-rank --nproc-per-node --master-addr --master-port)
// starts this node's ranks as its children; or another launcher (torchrun, SLURM's srun,
// Open MPI's mpirun) starts one parc-run per rank and says which rank in the environment.
// JobPlacement gathers what either says: the global rank, the world, the node, the master
// and the rendezvous.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_JOBPLACEMENT_H
#define PARC_RUNTIME_LIB_JOBPLACEMENT_H

#include "LaunchOptions.h"

#include "parc/Runtime/Rendezvous.h"

#include <string>
#include <utility>
#include <vector>

namespace parc::rt {

struct JobPlacement {
  /// Whether ranks meet over the network (several nodes, or ranks launched by others)
  /// rather than in one launcher's private folder.
  bool distributed = false;
  /// Whether this process is one rank started by another launcher.
  bool launchedPerRank = false;
  /// Who placed it: "torchrun", "SLURM", "Open MPI", "parc-run --nnodes", "parc-run".
  std::string launcher = "parc-run";
  /// The environment variables read, as NAME=VALUE.
  std::vector<std::string> variables;
  int rank = 0, world = 1, localRank = 0;
  int nodeRank = 0, nnodes = 1, nprocPerNode = 1;
  std::string masterAddr = "127.0.0.1";
  int masterPort = 29500;
  RendezvousOptions rendezvous;

  /// "rank 2 on node 1 (127.0.0.3)": how messages name a rank of this node.
  std::string where(int globalRank) const;
};

/// Reads the flags and (unless this is a worker of parc-run's own launcher, or --nnodes
/// is given) the environment of torchrun, SLURM or Open MPI. `artifactWorld` is the
/// artifact's world size (0 when unknown: --print-env without an artifact). An error names
/// the flag or variable.
Status placeJob(const LaunchOptions &options, int artifactWorld, JobPlacement &placement);

/// What --print-env prints: what was read and which rank this process is.
std::string describePlacement(const JobPlacement &placement);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_JOBPLACEMENT_H
