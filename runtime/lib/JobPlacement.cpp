//===- JobPlacement.cpp - which rank this process is, and where -----------===//

#include "JobPlacement.h"

#include <cstdlib>
#include <unistd.h>

using namespace parc::rt;

std::string JobPlacement::where(int globalRank) const {
  std::string text = "rank " + std::to_string(globalRank);
  if (!distributed)
    return text;
  return text + " on node " + std::to_string(nodeRank) + " (" + rendezvous.nodeAddress + ")";
}

namespace {

/// A rank variable set by a launcher: one of the names, the first set.
struct Variables {
  const char *rank, *world, *localRank;
};

/// Reads an integer variable; `found` tells whether it was set.
Status readInteger(const char *name, int &value, bool &found,
                   std::vector<std::string> &read) {
  const char *text = std::getenv(name);
  found = text != nullptr;
  if (!found)
    return Status::ok();
  read.push_back(std::string(name) + "=" + text);
  char *end = nullptr;
  long parsed = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || parsed < 0 || parsed > (1 << 20))
    return Status::error(std::string("environment variable ") + name + "='" + text +
                         "': expected a non-negative integer");
  value = static_cast<int>(parsed);
  return Status::ok();
}

/// Reads the first launcher's variables that are set: torchrun's, SLURM's, Open MPI's.
Status readLauncherEnvironment(JobPlacement &placement, bool &found) {
  struct Launcher {
    const char *name;
    Variables variables;
  };
  const Launcher launchers[] = {
      {"torchrun", {"RANK", "WORLD_SIZE", "LOCAL_RANK"}},
      {"SLURM", {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"}},
      {"Open MPI",
       {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"}},
  };
  found = false;
  for (const Launcher &launcher : launchers) {
    std::vector<std::string> read;
    bool hasRank = false, hasWorld = false, hasLocal = false;
    int rank = 0, world = 0, local = 0;
    PARC_RETURN_IF_ERROR(readInteger(launcher.variables.rank, rank, hasRank, read));
    if (!hasRank)
      continue;
    PARC_RETURN_IF_ERROR(readInteger(launcher.variables.world, world, hasWorld, read));
    PARC_RETURN_IF_ERROR(readInteger(launcher.variables.localRank, local, hasLocal, read));
    if (!hasWorld)
      return Status::error(std::string(launcher.variables.rank) + " is set but " +
                           launcher.variables.world + " is not");
    if (world < 1 || rank >= world)
      return Status::error(std::string(launcher.variables.rank) + "=" + std::to_string(rank) +
                           " is not a rank of " + launcher.variables.world + "=" +
                           std::to_string(world));
    // A single-task allocation (an sbatch script's own shell) is not a job to join.
    if (world == 1)
      return Status::ok();
    found = true;
    placement.launcher = launcher.name;
    placement.variables = read;
    placement.rank = rank;
    placement.world = world;
    placement.localRank = hasLocal ? local : 0;
    return Status::ok();
  }
  return Status::ok();
}

/// The master: --master-addr/--master-port, else MASTER_ADDR/MASTER_PORT, else (SLURM)
/// the node srun ran on; 127.0.0.1:29500 when nothing says.
Status readMaster(const LaunchOptions &options, JobPlacement &placement) {
  const char *address = std::getenv("MASTER_ADDR");
  const char *port = std::getenv("MASTER_PORT");
  if (!options.masterAddr.empty()) {
    placement.masterAddr = options.masterAddr;
  } else if (address && *address) {
    placement.masterAddr = address;
    placement.variables.push_back(std::string("MASTER_ADDR=") + address);
  } else if (const char *launch = std::getenv("SLURM_LAUNCH_NODE_IPADDR");
             launch && *launch && placement.launcher == "SLURM") {
    placement.masterAddr = launch;
    placement.variables.push_back(std::string("SLURM_LAUNCH_NODE_IPADDR=") + launch);
  }
  if (options.masterPort > 0) {
    placement.masterPort = options.masterPort;
  } else if (port && *port) {
    bool found = false;
    PARC_RETURN_IF_ERROR(readInteger("MASTER_PORT", placement.masterPort, found,
                                     placement.variables));
    if (placement.masterPort < 1 || placement.masterPort > 65535)
      return Status::error("MASTER_PORT=" + std::string(port) + ": expected a port (1-65535)");
  }
  return Status::ok();
}

} // namespace

Status parc::rt::placeJob(const LaunchOptions &options, int artifactWorld,
                          JobPlacement &placement) {
  placement = JobPlacement();
  placement.world = artifactWorld > 0 ? artifactWorld : 1;
  bool perNode = options.nnodes > 1;
  bool fromEnvironment = false;
  // Workers of parc-run's own launcher take their rank from it (--worker-rank); --nnodes
  // means a per-node launcher even inside an allocation whose variables say otherwise.
  if (!perNode && !options.worker)
    PARC_RETURN_IF_ERROR(readLauncherEnvironment(placement, fromEnvironment));
  if (!perNode && !fromEnvironment)
    return Status::ok();

  placement.distributed = true;
  PARC_RETURN_IF_ERROR(readMaster(options, placement));
  if (fromEnvironment) {
    placement.launchedPerRank = true;
    if (artifactWorld > 0 && placement.world != artifactWorld)
      return Status::error(placement.launcher + " starts " + std::to_string(placement.world) +
                           " ranks, but the artifact has " + std::to_string(artifactWorld) +
                           " (the layout is fixed at compile time)");
    // Ranks are placed node by node with the same count on each (srun's block
    // distribution, mpirun's --map-by slot, torchrun): the node is rank / local size.
    int local = 0;
    bool found = false;
    for (const char *name : {"LOCAL_WORLD_SIZE", "SLURM_NTASKS_PER_NODE",
                             "OMPI_COMM_WORLD_LOCAL_SIZE"}) {
      if (std::getenv(name) && readInteger(name, local, found, placement.variables) &&
          found && local > 0)
        break;
      local = 0;
    }
    placement.nprocPerNode = local > 0 ? local : placement.world;
    placement.nodeRank = placement.rank / placement.nprocPerNode;
    placement.nnodes = (placement.world + placement.nprocPerNode - 1) / placement.nprocPerNode;
  } else {
    placement.launcher = "parc-run --nnodes";
    placement.nnodes = options.nnodes;
    if (options.nodeRank < 0)
      return Status::error("--nnodes=" + std::to_string(options.nnodes) +
                           " needs --node-rank (this node's index, 0 to " +
                           std::to_string(options.nnodes - 1) + ")");
    if (options.nodeRank >= options.nnodes)
      return Status::error("--node-rank=" + std::to_string(options.nodeRank) +
                           " is not below --nnodes=" + std::to_string(options.nnodes));
    placement.nodeRank = options.nodeRank;
    if (options.nprocPerNode > 0) {
      placement.nprocPerNode = options.nprocPerNode;
    } else if (artifactWorld > 0 && artifactWorld % options.nnodes == 0) {
      placement.nprocPerNode = artifactWorld / options.nnodes;
    } else if (artifactWorld > 0) {
      return Status::error("--nnodes=" + std::to_string(options.nnodes) +
                           " does not divide the artifact's " + std::to_string(artifactWorld) +
                           " ranks; give --nproc-per-node");
    }
    if (artifactWorld > 0 && placement.nprocPerNode * options.nnodes != artifactWorld)
      return Status::error("--nnodes=" + std::to_string(options.nnodes) +
                           " x --nproc-per-node=" + std::to_string(placement.nprocPerNode) +
                           " is not the artifact's " + std::to_string(artifactWorld) +
                           " ranks (the layout is fixed at compile time)");
    placement.world = placement.nprocPerNode * options.nnodes;
    placement.rank = options.worker ? options.rank : placement.nodeRank * placement.nprocPerNode;
    placement.localRank = placement.rank - placement.nodeRank * placement.nprocPerNode;
  }

  RendezvousOptions &rendezvous = placement.rendezvous;
  rendezvous.kind = RendezvousOptions::Kind::Tcp;
  if (!options.rendezvous.empty())
    PARC_RETURN_IF_ERROR(parseRendezvous(options.rendezvous, rendezvous));
  if (rendezvous.kind == RendezvousOptions::Kind::Tcp) {
    rendezvous.host = placement.masterAddr;
    rendezvous.port = placement.masterPort;
  }
  rendezvous.joinTimeoutSeconds = options.rendezvousTimeoutSeconds;
  rendezvous.generation = options.restart;
  if (!options.nodeAddr.empty())
    rendezvous.nodeAddress = options.nodeAddr;
  else
    PARC_RETURN_IF_ERROR(localAddressReaching(placement.masterAddr, placement.masterPort,
                                              rendezvous.nodeAddress));
  return Status::ok();
}

std::string parc::rt::describePlacement(const JobPlacement &placement) {
  std::string text = "parc-run: placed by " + placement.launcher;
  if (!placement.variables.empty()) {
    text += " (";
    for (size_t i = 0; i < placement.variables.size(); ++i)
      text += (i ? " " : "") + placement.variables[i];
    text += ")";
  }
  text += "\n";
  if (!placement.distributed)
    return text + "parc-run: one machine: every rank a child of this parc-run, meeting in a "
                  "private folder over 127.0.0.1\n";
  char hostname[256] = {};
  gethostname(hostname, sizeof(hostname) - 1);
  text += "parc-run: global rank " + std::to_string(placement.rank) + " of " +
          std::to_string(placement.world) + ", local rank " +
          std::to_string(placement.localRank) + ", node " + std::to_string(placement.nodeRank) +
          " of " + std::to_string(placement.nnodes) + " (" + std::to_string(placement.nprocPerNode) +
          " ranks per node) on " + hostname + "\n";
  text += "parc-run: master " + placement.masterAddr + ":" + std::to_string(placement.masterPort) +
          ", rendezvous " + placement.rendezvous.describe() + ", this node's address " +
          placement.rendezvous.nodeAddress + "\n";
  return text;
}
