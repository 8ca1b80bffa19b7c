//===- LaunchOptions.h - parc-run's command line ----------------*- C++ -*-===//

#ifndef PARC_RUNTIME_LIB_LAUNCHOPTIONS_H
#define PARC_RUNTIME_LIB_LAUNCHOPTIONS_H

#include "parc/Runtime/Status.h"

#include <string>
#include <utility>
#include <vector>

namespace parc::rt {

struct LaunchOptions {
  std::string artifact;
  std::vector<std::pair<std::string, std::string>> inputs; // name, .npy path
  std::string outputDir;
  int nproc = 0;         // 0: the artifact's world size
  int threads = 0;       // per rank; 0: cores / ranks
  double timeoutSeconds = 0; // 0: none
  int repeat = 1;            // runs of the program (for benchmarks)
  bool report = false;       // print per-rank timings and peak memory
  bool cudaGraphs = false;   // capture a run in a CUDA graph and replay it (--repeat)
  bool verify = false;       // check every mapped weight shard's CRC-32C before running
  bool profile = false;      // print the time of each kind of op and the slowest nodes
  std::string tracePath;     // write a Chrome/Perfetto trace of the last run here
  std::string profileJsonPath; // write rank 0's per-instruction profile here (JSON)
  int steps = 0;             // training steps (0: not given; a training artifact runs 1)
  std::string saveDir;       // write trained weights and optimizer state here at the end
  std::string resumeDir;     // start from the weights and state saved here
  int saveEvery = 0;         // --save-every K: a checkpoint into --save every K steps
  int maxRestarts = 0;       // --max-restarts N: restart a failed job from its checkpoint
  int firstStep = 0;         // (workers of a restarted job) the step to go on from
  int restart = 0;           // (workers of a restarted job) which restart this is
  bool help = false;         // --help: print the usage and exit
  bool cudaLibraries = false; // --cuda-libraries: say where the NVIDIA libraries are, exit
  // Runs across machines (docs/runtime.md, "Several machines").
  int nnodes = 1;              // --nnodes: machines in the run
  int nodeRank = -1;           // --node-rank: this machine's index
  int nprocPerNode = 0;        // --nproc-per-node; 0: world size / nnodes
  std::string masterAddr;      // --master-addr; else MASTER_ADDR, SLURM's launch node, 127.0.0.1
  int masterPort = 0;          // --master-port; else MASTER_PORT, 29500
  std::string rendezvous;      // --rendezvous=tcp|redis://HOST:PORT|file:///DIR
  std::string nodeAddr;        // --node-addr: where this node's ranks listen
  double rendezvousTimeoutSeconds = 300; // --rendezvous-timeout
  bool printEnv = false;       // --print-env: say which rank this is, and exit
  bool quiet = false;          // --quiet: no progress lines (training steps)
  // Set in worker processes only.
  bool worker = false;
  int rank = 0;
  std::string workDir;
};

/// Parses parc-run's arguments; an unknown or malformed flag is an error naming it.
Status parseLaunchOptions(int argc, char **argv, LaunchOptions &options);

/// The usage text.
const char *launchUsage();

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_LAUNCHOPTIONS_H
