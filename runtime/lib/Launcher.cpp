//===- Launcher.cpp - parc-run: spawning and supervising ranks ------------===//
//
// The parent checks everything a user can get wrong before any rank starts (artifact, input
// names, dtypes, shapes, files), then starts one worker per rank as a fresh process of the
// same binary and supervises them: the first rank to fail, crash or outlive --timeout stops
// the others, and its message is the one reported. Workers write their outputs and errors
// into a private folder; outputs are moved into place only after every rank succeeded.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Launcher.h"

#include "BackendRegistry.h"
#include "Checkpoint.h"
#include "CudaDevice.h"
#include "JobPlacement.h"
#include "LaunchOptions.h"
#include "Trace.h"
#include "Worker.h"

#include "parc/Runtime/Artifact.h"
#include "parc/Runtime/Npy.h"

#include "parc/artifact/artifact.pb.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

using namespace parc::rt;
namespace fs = std::filesystem;
namespace pa = parc::artifact;

namespace {

int reportError(const std::string &message) {
  std::cerr << "parc-run: error: " << printableOneLine(message) << "\n";
  return 1;
}

/// Checks the given inputs against the manifest: every input given once, no extra one, each
/// file readable with the declared dtype and shape.
Status checkInputs(const Artifact &artifact, const LaunchOptions &options) {
  const pa::Manifest &manifest = artifact.manifest();
  std::set<std::string> expected;
  for (const pa::GraphValue &input : manifest.inputs())
    expected.insert(input.name());
  for (const auto &[name, path] : options.inputs)
    if (!expected.count(name)) {
      std::string names;
      for (const pa::GraphValue &input : manifest.inputs())
        names += (names.empty() ? "" : ", ") + input.name();
      return Status::error("--input '" + name + "' is not an input of the model (inputs: " +
                           names + ")");
    }
  for (const pa::GraphValue &input : manifest.inputs()) {
    const std::string *path = nullptr;
    for (const auto &[name, file] : options.inputs)
      if (name == input.name())
        path = &file;
    DType dtype = toDType(input.type().dtype());
    Shape shape = toShape(input.type());
    if (!path)
      return Status::error("missing input '" + input.name() + "' (" + dtypeName(dtype) +
                           " " + formatShape(shape) + "); give it with --input " +
                           input.name() + "=FILE.npy");
    // A training run takes --steps global batches stacked along dim 0.
    if (options.steps > 0 && manifest.training()) {
      if (shape.empty())
        return Status::error("input '" + input.name() + "' has no batch dim to stack steps on");
      shape[0] *= options.steps;
    }
    NpyArray array;
    PARC_RETURN_IF_ERROR(readNpy(*path, array));
    if (array.dtype != dtype || array.shape != shape)
      return Status::error("input '" + input.name() + "' must be " + dtypeName(dtype) +
                           " " + formatShape(shape) +
                           (options.steps > 0 && manifest.training()
                                ? " (" + std::to_string(options.steps) + " steps of batches)"
                                : std::string()) +
                           ", but " + *path + " holds " + dtypeName(array.dtype) + " " +
                           formatShape(array.shape));
  }
  return Status::ok();
}

/// Starts rank `rank` as `<this binary> <args> --worker-rank R --worker-dir DIR`.
Status spawnWorker(int rank, const std::string &workDir, int argc, char **argv,
                   pid_t &pid, const std::vector<std::string> &extra = {}) {
  std::vector<std::string> args(argv, argv + argc);
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("--worker-rank");
  args.push_back(std::to_string(rank));
  args.push_back("--worker-dir");
  args.push_back(workDir);
  std::vector<char *> raw;
  for (std::string &arg : args)
    raw.push_back(arg.data());
  raw.push_back(nullptr);
  int error = posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, raw.data(), environ);
  if (error != 0)
    return Status::error("cannot start rank " + std::to_string(rank) + ": " +
                         std::strerror(error));
  return Status::ok();
}

std::string describeExit(int status) {
  if (WIFSIGNALED(status))
    return std::string("died with signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

/// How long a rank may stay stopped (SIGSTOP, SIGTSTP) before the launcher ends the job.
constexpr double kStoppedRankSeconds = 2;

void stopAll(std::vector<pid_t> &pids) {
  for (pid_t pid : pids)
    if (pid > 0)
      kill(pid, SIGKILL);
  for (pid_t &pid : pids)
    if (pid > 0) {
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
}

/// The error a rank left in the work folder: (when it failed, message); message empty when
/// the rank left none (it crashed or was killed).
/// What a failed rank wrote into its error file (Worker.cpp): when, what, and whether it
/// had not yet connected to the others. Empty when it wrote none.
struct RankError {
  long long when = 0;
  std::string message;
  bool connecting = false;
};

RankError readRankError(const std::string &workDir, size_t rank) {
  std::ifstream file(workDir + "/rank" + std::to_string(rank) + ".error");
  RankError error;
  std::string marker;
  if (file >> error.when) {
    file.ignore();
    std::getline(file, error.message);
    std::getline(file, marker);
    error.connecting = marker == kConnectingMarker;
  }
  return error;
}

/// Whether every rank that recorded an error failed while connecting to the others, at
/// least one did, and no rank got as far as running (so nothing ran).
bool failedConnecting(const std::string &workDir, size_t ranks) {
  for (size_t rank = 0; rank < ranks; ++rank)
    if (fs::exists(connectedMarkerFile(workDir, static_cast<int>(rank))))
      return false;
  bool any = false;
  for (size_t rank = 0; rank < ranks; ++rank) {
    RankError error = readRankError(workDir, rank);
    if (error.message.empty())
      continue;
    if (!error.connecting)
      return false;
    any = true;
  }
  return any;
}

/// Waits for every rank. On the first failure, gives the others a moment to fail on their
/// own, stops the rest, and returns the earliest error any rank recorded (the root cause;
/// later errors are peers losing their connection to it).
Status superviseRanks(std::vector<pid_t> &pids, const std::string &workDir,
                      double timeoutSeconds, int firstRank = 0, bool distributedRun = false) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  size_t running = pids.size();
  std::vector<int> exitStatus(pids.size(), 0);
  // Ranks killed by a signal before the launcher stopped anyone: a crash, the likely cause
  // of the others' errors (they lose their connection to it).
  std::string crashes;
  std::optional<Clock::time_point> firstFailure;
  // Ranks stopped by a signal (SIGSTOP, SIGTSTP) and since when: a rank that stays stopped
  // holds its peers in their collectives, as a hung node does.
  std::vector<std::optional<Clock::time_point>> stoppedSince(pids.size());
  std::vector<int> stopSignal(pids.size(), 0);
  while (running > 0) {
    int status = 0;
    pid_t done = waitpid(-1, &status, WNOHANG | WUNTRACED | WCONTINUED);
    if (done > 0) {
      size_t rank = 0;
      while (rank < pids.size() && pids[rank] != done)
        ++rank;
      if (rank == pids.size())
        continue;
      if (WIFSTOPPED(status) || WIFCONTINUED(status)) {
        stoppedSince[rank] = WIFSTOPPED(status) ? std::optional(Clock::now()) : std::nullopt;
        stopSignal[rank] = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
        continue;
      }
      stoppedSince[rank].reset();
      pids[rank] = -1;
      exitStatus[rank] = status;
      --running;
      if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !firstFailure)
        firstFailure = Clock::now();
      if (WIFSIGNALED(status))
        crashes += "; rank " + std::to_string(firstRank + rank) + " " + describeExit(status);
      continue;
    }
    auto now = Clock::now();
    if (firstFailure && now - *firstFailure > std::chrono::milliseconds(500))
      break;
    for (size_t rank = 0; rank < pids.size(); ++rank)
      if (stoppedSince[rank] &&
          now - *stoppedSince[rank] > std::chrono::duration<double>(kStoppedRankSeconds)) {
        // The stopped rank goes first, so that a run across machines learns from the job
        // store that it was this rank (its heartbeat connection closes first).
        kill(pids[rank], SIGKILL);
        waitpid(pids[rank], nullptr, 0);
        pids[rank] = -1;
        if (distributedRun)
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
        stopAll(pids);
        char seconds[32];
        std::snprintf(seconds, sizeof(seconds), "%g", kStoppedRankSeconds);
        return Status::error("rank " + std::to_string(firstRank + rank) + " was stopped by signal " +
                             std::to_string(stopSignal[rank]) + " (" +
                             strsignal(stopSignal[rank]) + ") and not continued within " +
                             seconds + " s; all ranks were stopped");
      }
    if (timeoutSeconds > 0 &&
        std::chrono::duration<double>(now - start).count() > timeoutSeconds) {
      stopAll(pids);
      char seconds[32];
      std::snprintf(seconds, sizeof(seconds), "%g", timeoutSeconds);
      return Status::error(std::string("timed out after ") + seconds +
                           " s (--timeout); all ranks were stopped");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!firstFailure)
    return Status::ok();
  stopAll(pids);
  // The earliest recorded error, else the first rank that died without one.
  std::optional<std::pair<long long, size_t>> earliest;
  for (size_t rank = 0; rank < exitStatus.size(); ++rank) {
    auto [when, message, connecting] = readRankError(workDir, firstRank + rank);
    if (!message.empty() && (!earliest || when < earliest->first))
      earliest = {when, firstRank + rank};
  }
  // A rank of a run across machines names itself and its node in its message.
  std::string prefix = distributedRun ? "" : "rank ";
  if (earliest)
    return Status::error(
        (prefix.empty() ? "" : prefix + std::to_string(earliest->second) + ": ") +
        readRankError(workDir, earliest->second).message + crashes);
  for (size_t rank = 0; rank < exitStatus.size(); ++rank)
    if (exitStatus[rank] != 0)
      return Status::error("rank " + std::to_string(firstRank + rank) + " " +
                           describeExit(exitStatus[rank]));
  return Status::error("a rank failed");
}

/// This launcher's work folder prefix, `.parc-run-HOST-PID-`: on a folder several
/// machines share, a launcher only judges its own machine's processes.
std::string workDirPrefix(pid_t pid) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string name = host;
  std::replace(name.begin(), name.end(), '-', '_');
  return ".parc-run-" + name + "-" + std::to_string(pid) + "-";
}

/// Removes the work folders that launchers of this machine killed with SIGKILL left in
/// `parent`: those whose process is gone.
void removeAbandonedWorkDirs(const fs::path &parent) {
  std::string mine = workDirPrefix(0);
  std::string hostPrefix = mine.substr(0, mine.size() - 2); // ".parc-run-HOST-"
  std::error_code error;
  for (const fs::directory_entry &entry : fs::directory_iterator(parent, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(hostPrefix, 0) != 0)
      continue;
    char *end = nullptr;
    long pid = std::strtol(name.c_str() + hostPrefix.size(), &end, 10);
    if (pid <= 0 || *end != '-')
      continue;
    if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue; // alive, or not ours to judge
    fs::remove_all(entry.path(), error);
  }
}

/// --max-restarts: what a restarted job's ranks are told: go on from the newest complete
/// checkpoint in --save (its step count), or from the start (the original --resume, if
/// any) when none was written yet. Says so on stderr; faults injected on purpose
/// (PARC_FAULT) happen once, not again in the restarted job.
std::vector<std::string> prepareRestart(const LaunchOptions &options, int restart,
                                        const std::string &failure) {
  std::vector<std::string> extra = {"--worker-restart", std::to_string(restart)};
  std::string from = "the start";
  for (const std::string &dir : {options.saveDir, options.saveDir + ".old"}) {
    std::ifstream steps(checkpointStepsFile(dir));
    int done = 0;
    if (options.saveDir.empty() || !(steps >> done) || done <= 0)
      continue;
    extra.insert(extra.end(), {"--resume", dir, "--worker-first-step", std::to_string(done)});
    from = "the checkpoint " + dir + " (after step " + std::to_string(done - 1) + ")";
    break;
  }
  std::fprintf(stderr, "parc-run: %s; restarting the job from %s (restart %d of %d)\n",
               printableOneLine(failure).c_str(), from.c_str(), restart, options.maxRestarts);
  unsetenv("PARC_FAULT");
  if (!options.saveDir.empty()) {
    std::error_code error;
    fs::remove_all(checkpointStagingDir(options.saveDir), error);
  }
  return extra;
}

/// Clears what the failed ranks left in the work folder before they are started again.
void clearRankFiles(const std::string &workDir, int first, int count) {
  std::error_code error;
  for (int rank = first; rank < first + count; ++rank) {
    fs::remove(fs::path(workDir) / ("rank" + std::to_string(rank) + ".error"), error);
    fs::remove(connectedMarkerFile(workDir, rank), error);
  }
  fs::remove_all(fs::path(workDir) / "rendezvous", error);
  fs::create_directories(fs::path(workDir) / "rendezvous", error);
}

/// The graph outputs whose owner (the lowest rank holding them) is one of `ranks`.
std::vector<std::string> outputsOwnedBy(const pa::Manifest &manifest, int first, int count) {
  std::vector<std::string> files;
  for (int i = 0; i < manifest.outputs_size(); ++i)
    if (int owner = outputOwner(manifest, i); owner >= first && owner < first + count)
      files.push_back(outputFileName(manifest.outputs(i).name()));
  return files;
}

/// A run across machines, as this node sees it: one rank started by torchrun, srun or
/// mpirun, or this node's ranks under parc-run's own per-node launcher (--nnodes). Each
/// node publishes the outputs its ranks own into its --output-dir; --save is published by
/// the ranks (Worker.cpp) once all of them are done.
int runDistributed(LaunchOptions &options, const JobPlacement &placement,
                   const Artifact &artifact, const std::string &workDir, int argc,
                   char **argv) {
  const pa::Manifest &manifest = artifact.manifest();
  std::error_code error;
  int first = placement.launchedPerRank ? placement.rank
                                        : placement.nodeRank * placement.nprocPerNode;
  int count = placement.launchedPerRank ? 1 : placement.nprocPerNode;
  Status ranks;
  if (placement.launchedPerRank) {
    options.workDir = workDir;
    // Ends with the process that started it (srun's step daemon, mpirun's orted).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (runRankProcess(options, placement) != 0) {
      fs::remove_all(workDir, error);
      return 1; // the rank printed its error
    }
  } else {
    // Every node's launcher restarts its ranks after a failure; they meet again through
    // global rank 0's new job store and go on from the same (shared) checkpoint.
    // The workers are told the ranks per node, which places them without the artifact.
    const std::vector<std::string> placing = {"--nproc-per-node", std::to_string(count)};
    std::vector<std::string> extra = placing;
    for (int restarts = 0;;) {
      std::vector<pid_t> pids(count, -1);
      for (int local = 0; local < count; ++local) {
        Status spawned = spawnWorker(first + local, workDir, argc, argv, pids[local], extra);
        if (!spawned) {
          stopAll(pids);
          fs::remove_all(workDir, error);
          return reportError(spawned.message());
        }
      }
      ranks = superviseRanks(pids, workDir, options.timeoutSeconds, first, true);
      if (ranks || restarts >= options.maxRestarts || !manifest.training())
        break;
      extra = prepareRestart(options, ++restarts, ranks.message());
      extra.insert(extra.end(), placing.begin(), placing.end());
      clearRankFiles(workDir, first, count);
    }
  }
  if (ranks && !options.outputDir.empty())
    for (const std::string &file : outputsOwnedBy(manifest, first, count)) {
      fs::rename(fs::path(workDir) / file, fs::path(options.outputDir) / file, error);
      if (error) {
        ranks = Status::error("cannot write " + (fs::path(options.outputDir) / file).string() +
                              ": " + error.message());
        break;
      }
    }
  if (!ranks && !options.saveDir.empty())
    fs::remove_all(checkpointStagingDir(options.saveDir), error);
  fs::remove_all(workDir, error);
  if (!ranks)
    return reportError(ranks.message());
  return 0;
}

} // namespace

int parc::rt::runParcRun(int argc, char **argv) {
  LaunchOptions options;
  Status parsed = parseLaunchOptions(argc, argv, options);
  if (!parsed) {
    std::cerr << launchUsage();
    return reportError(parsed.message());
  }
  if (options.help) {
    std::cout << launchUsage()
              << "Runs every rank of a parc artifact (from parc-compile) and writes "
                 "DIR/<output>.npy for each graph output; docs/runtime.md lists the "
                 "flags.\n";
    return 0;
  }
  if (options.cudaLibraries)
    return reportCudaLibraries(std::cout) ? 0 : 1;
  if (options.worker)
    return runWorker(options);
  if (options.printEnv && options.artifact.empty()) {
    JobPlacement placement;
    if (Status placed = placeJob(options, 0, placement); !placed)
      return reportError(placed.message());
    std::cout << describePlacement(placement);
    return 0;
  }

  Status status;
  std::unique_ptr<Artifact> artifact = Artifact::open(options.artifact, status);
  if (!artifact)
    return reportError(status.message());
  const pa::Manifest &manifest = artifact->manifest();
  int world = manifest.world_size();
  JobPlacement placement;
  if (Status placed = placeJob(options, world, placement); !placed)
    return reportError(placed.message());
  if (options.printEnv) {
    std::cout << describePlacement(placement);
    return 0;
  }
  if (placement.distributed && options.nproc > 0 && options.nproc != placement.nprocPerNode)
    return reportError("--nproc " + std::to_string(options.nproc) + " on several machines: use "
                       "--nproc-per-node (this node runs " +
                       std::to_string(placement.launchedPerRank ? 1 : placement.nprocPerNode) +
                       " of the " + std::to_string(world) + " ranks)");
  if (placement.launchedPerRank && options.maxRestarts > 0)
    return reportError("--max-restarts restarts the ranks parc-run starts; under " +
                       placement.launcher + " use its own restarts");
  if (placement.distributed && !options.tracePath.empty())
    return reportError("--trace is not supported across machines yet (each rank's trace "
                       "would stay on its node)");
  if (placement.distributed)
    options.nproc = world;
  if (options.nproc == 0)
    options.nproc = world;
  if (options.nproc != world)
    return reportError("--nproc " + std::to_string(options.nproc) +
                       " does not match the artifact's world size " +
                       std::to_string(world) + " (the layout is fixed at compile time)");
  const BackendProvider *provider = findBackendProvider(manifest.target());
  if (!provider)
    return reportError(options.artifact + " targets '" + manifest.target() +
                       "', which this parc-run cannot run");
  if (Status machine = provider->checkMachine(manifest); !machine)
    return reportError(options.artifact + " " + machine.message());
  if (!manifest.training() &&
      (options.steps > 0 || !options.saveDir.empty() || !options.resumeDir.empty()))
    return reportError("--steps, --save and --resume need a training artifact "
                       "(parc-compile --train)");
  Status inputs = checkInputs(*artifact, options);
  if (!inputs)
    return reportError(inputs.message());

  // A training run's result is its losses (printed) and its checkpoint (--save); an
  // inference run's is its outputs, which need somewhere to go.
  bool writesOutputs = !options.outputDir.empty();
  if (!writesOutputs && !manifest.training())
    return reportError("--output-dir is required: it receives the outputs of " +
                       options.artifact);
  std::error_code error;
  // The ranks write their outputs next to where they are published, so that publishing
  // them is a rename; without --output-dir they work in the temporary directory.
  fs::path parent = writesOutputs ? fs::path(options.outputDir) : fs::temp_directory_path(error);
  std::string parentFlag = writesOutputs ? "--output-dir " + options.outputDir
                                         : std::string("the temporary directory");
  if (writesOutputs)
    fs::create_directories(parent, error);
  if (error)
    return reportError(parentFlag + ": " + error.message());
  removeAbandonedWorkDirs(parent);
  std::string pattern = (parent / (workDirPrefix(getpid()) + "XXXXXX")).string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data()))
    return reportError(parentFlag + " " + parent.string() + ": " + std::strerror(errno));
  std::string workDir(buffer.data());
  // Ranks meet through files here (Gloo's FileStore) before connecting over loopback TCP.
  fs::create_directories(fs::path(workDir) / "rendezvous", error);

  std::string checkpointDir = checkpointStagingDir(options.saveDir);
  if (placement.distributed)
    return runDistributed(options, placement, *artifact, workDir, argc, argv);
  if (!options.saveDir.empty()) {
    fs::remove_all(checkpointDir, error);
    fs::create_directories(checkpointDir, error);
    if (error) {
      fs::remove_all(workDir, error);
      return reportError("--save " + options.saveDir + ": " + error.message());
    }
  }

  // Gloo's TCP rendezvous occasionally fails to connect two ranks ("Connection closed by
  // peer"); when every failing rank failed while connecting, nothing ran, and the ranks
  // are started once more.
  Status ranks;
  std::vector<std::string> extra;
  bool retriedConnecting = false;
  for (int restarts = 0;;) {
    std::vector<pid_t> pids(options.nproc, -1);
    for (int rank = 0; rank < options.nproc; ++rank) {
      Status spawned = spawnWorker(rank, workDir, argc, argv, pids[rank], extra);
      if (!spawned) {
        stopAll(pids);
        fs::remove_all(workDir, error);
        return reportError(spawned.message());
      }
    }
    ranks = superviseRanks(pids, workDir, options.timeoutSeconds);
    if (ranks)
      break;
    if (!retriedConnecting && failedConnecting(workDir, options.nproc)) {
      retriedConnecting = true;
      std::fprintf(stderr, "parc-run: the ranks could not connect (%s); starting them again\n",
                   ranks.message().c_str());
    } else if (restarts < options.maxRestarts && manifest.training()) {
      extra = prepareRestart(options, ++restarts, ranks.message());
    } else {
      break;
    }
    clearRankFiles(workDir, 0, options.nproc);
  }
  if (ranks && !options.tracePath.empty())
    ranks = writeMergedTrace(workDir, options.nproc, options.tracePath);
  if (ranks && writesOutputs) {
    for (const pa::GraphValue &output : manifest.outputs()) {
      std::string file = outputFileName(output.name());
      fs::rename(fs::path(workDir) / file, fs::path(options.outputDir) / file, error);
      if (error) {
        ranks = Status::error("cannot write " +
                              (fs::path(options.outputDir) / file).string() + ": " +
                              error.message());
        break;
      }
    }
  }
  if (ranks && !options.saveDir.empty())
    ranks = replaceCheckpoint(checkpointDir, options.saveDir);
  if (!options.saveDir.empty())
    fs::remove_all(checkpointDir, error);
  fs::remove_all(workDir, error);
  if (!ranks)
    return reportError(ranks.message());
  return 0;
}
