//===- Worker.cpp - one rank of parc-run ----------------------------------===//

#include "Worker.h"

#include "BackendRegistry.h"
#include "Checkpoint.h"
#include "Fault.h"
#include "JobPlacement.h"
#include "Profile.h"
#include "Trace.h"

#include "parc/Runtime/Artifact.h"
#include "parc/Runtime/Communicator.h"
#include "parc/Runtime/Executor.h"
#include "parc/Runtime/Npy.h"
#include "parc/Runtime/ProcessMemory.h"
#include "parc/Runtime/ProgressLine.h"
#include "parc/Runtime/Rendezvous.h"

#include "parc/artifact/artifact.pb.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <csignal>
#include <sys/prctl.h>
#include <thread>
#include <unistd.h>

using namespace parc::rt;
namespace pa = parc::artifact;

std::string parc::rt::outputFileName(const std::string &outputName) {
  std::string file = outputName;
  std::replace(file.begin(), file.end(), '/', '_');
  return file + ".npy";
}

int parc::rt::outputOwner(const pa::Manifest &manifest, int index) {
  for (int r = 0; r < manifest.programs_size(); ++r)
    if (manifest.programs(r).outputs(index) >= 0)
      return r;
  return -1;
}

/// Where a rank was when it failed. Only a failure while connecting (Gloo's rendezvous
/// occasionally drops a connection) makes the launcher start the ranks once more; one
/// while loading (a corrupt artifact, --verify) would fail again the same way.
enum class RankPhase { Loading, Connecting, Running };

/// What a rank of a run across machines holds besides its connections: the job store it
/// serves (global rank 0 with --rendezvous=tcp) and its heartbeat to it.
struct JobSession {
  std::unique_ptr<JobStoreServer> server;
  std::unique_ptr<JobHeartbeat> heartbeat;
};

/// What rank 0 and every other rank must agree on before they connect: the world, the
/// artifact (its manifest checksum) and the input shapes. One line each, so that the first
/// line that differs says what.
static std::string jobRecord(const Artifact &artifact, const LaunchOptions &options) {
  const pa::Manifest &manifest = artifact.manifest();
  char checksum[16];
  std::snprintf(checksum, sizeof(checksum), "%08x", artifact.manifestChecksum());
  std::string record = "world " + std::to_string(manifest.world_size()) + "\n";
  record += "artifact with manifest checksum " + std::string(checksum) + "\n";
  for (const auto &[name, path] : options.inputs) {
    NpyArray array;
    std::string shape = readNpy(path, array) ? std::string(dtypeName(array.dtype)) + " " +
                                                   formatShape(array.shape)
                                             : "unreadable";
    record += "input '" + name + "' " + shape + "\n";
  }
  return record;
}

/// Joins a run across machines: global rank 0 serves the job store (tcp), every rank
/// starts its heartbeat, and every rank checks that it runs rank 0's job.
static Status joinJob(const LaunchOptions &options, const JobPlacement &placement,
                      const Artifact &artifact, JobSession &session,
                      std::function<void(const std::string &)> onAbort) {
  const RendezvousOptions &rendezvous = placement.rendezvous;
  if (rendezvous.kind == RendezvousOptions::Kind::Tcp) {
    Status status;
    if (placement.rank == 0) {
      session.server =
          JobStoreServer::start("0.0.0.0", rendezvous.port, placement.world,
                                rendezvous.generation, status);
      if (!session.server)
        return status;
    }
    session.heartbeat =
        JobHeartbeat::start(rendezvous.host, rendezvous.port, rendezvous.generation,
                            placement.rank,
                            placement.where(placement.rank), rendezvous.joinTimeoutSeconds,
                            std::move(onAbort), status);
    if (!session.heartbeat)
      return status;
  }
  std::string mine = jobRecord(artifact, options), rankZero;
  std::string line = "artifact " + artifact.path() + "\n";
  PARC_RETURN_IF_ERROR(exchangeWithRankZero(rendezvous, placement.rank, line + mine, rankZero));
  std::string zeroArtifact = rankZero.substr(0, rankZero.find('\n'));
  std::string theirs = rankZero.substr(rankZero.find('\n') + 1);
  if (theirs == mine)
    return Status::ok();
  // The first line that differs.
  size_t at = 0;
  while (at < mine.size() && at < theirs.size() && mine[at] == theirs[at])
    ++at;
  size_t begin = mine.rfind('\n', at == 0 ? 0 : at - 1);
  begin = begin == std::string::npos || at == 0 ? 0 : begin + 1;
  auto lineAt = [&](const std::string &text) {
    return text.substr(begin, text.find('\n', begin) - begin);
  };
  return Status::error(artifact.path() + " (" + lineAt(mine) + ") is not rank 0's job: rank 0 has " +
                       zeroArtifact.substr(std::string("artifact ").size()) + " (" +
                       lineAt(theirs) + ")");
}

/// Runs the rank; any problem comes back as a Status. `comm` is owned by the caller so that
/// the connections to the other ranks outlive a failure until it has been recorded.
static Status runRank(const LaunchOptions &options, const JobPlacement &placement,
                      JobSession &session, std::function<void(const std::string &)> onAbort,
                      std::unique_ptr<CommContext> &comm, RankPhase &phase) {
  using Clock = std::chrono::steady_clock;
  auto milliseconds = [](Clock::time_point from) {
    return std::chrono::duration<double, std::milli>(Clock::now() - from).count();
  };
  Clock::time_point loadStart = Clock::now();
  Status status;
  std::unique_ptr<Artifact> artifact = Artifact::open(options.artifact, status);
  if (!artifact)
    return status;
  const pa::Manifest &manifest = artifact->manifest();
  if (options.rank >= manifest.world_size())
    return Status::error("--worker-rank " + std::to_string(options.rank) + ": the artifact has " +
                         std::to_string(manifest.world_size()) + " ranks");
  // --verify: nothing runs on weight bytes that changed since parc-compile wrote them. Not
  // the default: reading every mapped byte costs about 0.3 s per GB here, where mapping
  // the artifact costs a millisecond (docs/runtime.md).
  if (options.verify)
    PARC_RETURN_IF_ERROR(artifact->verifyWeights(options.rank));
  int threads = options.threads;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency() /
                               static_cast<unsigned>(manifest.world_size()));

  // The communicators this rank joins, as the compiler wrote them (artifact.proto's
  // Program.groups), in the order every member creates them.
  CommunicatorGroups groups;
  int world = manifest.world_size();
  if (world > 1) {
    phase = RankPhase::Connecting;
    // Tests of the launcher's restart: PARC_RUN_FAIL_CONNECT_ONCE=<rank> makes that rank
    // fail once while connecting (a marker in the work folder remembers it did).
    if (const char *failing = std::getenv("PARC_RUN_FAIL_CONNECT_ONCE");
        failing && std::atoi(failing) == options.rank) {
      std::string marker = options.workDir + "/connect-failure-injected";
      if (!std::filesystem::exists(marker)) {
        std::ofstream(marker) << "1\n";
        return Status::error("injected connection failure (PARC_RUN_FAIL_CONNECT_ONCE)");
      }
    }
    double timeout = options.timeoutSeconds > 0 ? options.timeoutSeconds : 300;
    if (placement.distributed) {
      // A previous run's partial checkpoint goes before any rank can write into it (none
      // passes the world barrier before rank 0 has joined).
      if (placement.rank == 0 && !options.saveDir.empty()) {
        std::error_code error;
        std::filesystem::remove_all(checkpointStagingDir(options.saveDir), error);
      }
      PARC_RETURN_IF_ERROR(joinJob(options, placement, *artifact, session, std::move(onAbort)));
      comm = CommContext::connect(options.rank, world, placement.rendezvous, timeout, status);
    } else {
      comm = CommContext::connect(options.rank, world, options.workDir + "/rendezvous",
                                  timeout, status);
    }
    if (!comm)
      return status;
    for (const pa::Group &group : manifest.programs(options.rank).groups()) {
      std::vector<int> members(group.members().begin(), group.members().end());
      groups[group.name()] = group.name() == "world" ? comm->world(status)
                                                     : comm->group(members, status);
      if (!groups[group.name()])
        return status;
    }
    if (!groups.count("world"))
      return Status::error("the artifact gives rank " + std::to_string(options.rank) +
                           " no world group");
    // Nothing runs until every rank has all its groups: a rank that failed to connect
    // then leaves the others stopped here, and the launcher may start all again.
    if (Status all = groups["world"]->barrier(); !all)
      return Status::error("waiting for every rank to connect: " + all.message());
    std::ofstream(connectedMarkerFile(options.workDir, options.rank)) << "1\n";
  }
  phase = RankPhase::Running;
  // Tests of the launcher's report of a crashed rank: PARC_RUN_CRASH_RANK=<rank> aborts
  // that rank once it is connected.
  if (const char *crashing = std::getenv("PARC_RUN_CRASH_RANK");
      crashing && std::atoi(crashing) == options.rank && world > 1)
    std::abort();
  const BackendProvider *provider = findBackendProvider(manifest.target());
  if (!provider)
    return Status::error("no backend runs target '" + manifest.target() + "'");
  std::unique_ptr<Backend> backend = provider->create(manifest, options, groups, threads, status);
  if (!backend)
    return status;
  std::unique_ptr<Executor> executor =
      Executor::create(*artifact, options.rank, *backend, groups, status);
  if (!executor)
    return status;

  // Each input file holds `steps` batches stacked along dim 0 (one for inference).
  int steps = manifest.training() ? std::max(1, options.steps) : 1;
  std::vector<NpyArray> inputFiles(manifest.inputs_size());
  for (int i = 0; i < manifest.inputs_size(); ++i) {
    const std::string &name = manifest.inputs(i).name();
    for (const auto &[given, path] : options.inputs) {
      if (given != name)
        continue;
      PARC_RETURN_IF_ERROR(readNpy(path, inputFiles[i]));
      if (inputFiles[i].data.size() != executor->input(i).bytes() * steps)
        return Status::error("input '" + name + "' changed size while running");
    }
  }
  auto loadStep = [&](int step) {
    for (int i = 0; i < manifest.inputs_size(); ++i) {
      TensorRef buffer = executor->input(i);
      PARC_RETURN_IF_ERROR(
          executor->setInput(i, inputFiles[i].data.data() + step * buffer.bytes()));
    }
    return Status::ok();
  };
  // A restarted job (--max-restarts) goes on from the step its checkpoint was taken after.
  int firstStep = manifest.training() ? std::min(options.firstStep, steps) : 0;
  PARC_RETURN_IF_ERROR(loadStep(firstStep < steps ? firstStep : 0));
  if (!manifest.training())
    inputFiles.clear(); // copied into the input buffers; not needed while running
  if (!options.resumeDir.empty())
    PARC_RETURN_IF_ERROR(loadCheckpoint(options.resumeDir, *executor, manifest));
  double loadMs = milliseconds(loadStart);
  executor->setTracing(!options.tracePath.empty());
  if (options.cudaGraphs) {
    Status graphs = executor->enableGraphs();
    if (!graphs)
      std::fprintf(stderr,
                   "parc-run: rank %d: --cuda-graphs: cannot capture this program (%s); "
                   "running without graphs\n",
                   options.rank, graphs.message().c_str());
  }
  // Per-instruction times (a GPU waits for each instruction's work to finish).
  bool timed = options.profile || !options.profileJsonPath.empty();
  std::string runTimes; // per run, or per training step
  if (manifest.training()) {
    // The loss is the training step's one output; its owner prints it each step.
    bool printsLoss = manifest.outputs_size() > 0 && executor->output(0).data &&
                      outputOwner(manifest, 0) == options.rank;
    // Progress, from the rank that prints the loss: a step's tokens are its global batch's
    // (batch x sequence of an integer input), else its samples.
    ProgressLine progress("parc-run", options.quiet || !printsLoss);
    Shape whole = manifest.inputs_size() ? toShape(manifest.inputs(0).type()) : Shape();
    bool tokens = manifest.inputs_size() && whole.size() >= 2 &&
                  !isFloat(toDType(manifest.inputs(0).type().dtype()));
    double perStep = whole.empty() ? 1 : double(whole[0]) * (tokens ? double(whole[1]) : 1.0);
    double elapsed = 0;
    for (int step = firstStep; step < steps; ++step) {
      PARC_RETURN_IF_ERROR(injectFault(options.rank, std::to_string(step)));
      if (step > firstStep) // the first step's batch is in place already
        PARC_RETURN_IF_ERROR(loadStep(step));
      Clock::time_point stepStart = Clock::now();
      PARC_RETURN_IF_ERROR(executor->run(timed));
      char text[32];
      std::snprintf(text, sizeof(text), " %.3f", milliseconds(stepStart));
      runTimes += text;
      if (printsLoss) {
        std::vector<char> storage;
        TensorRef loss;
        PARC_RETURN_IF_ERROR(executor->outputOnHost(0, storage, loss));
        std::printf("step=%d loss=%.9g\n", step, *loss.as<float>());
        std::fflush(stdout);
        double seconds = milliseconds(stepStart) / 1e3;
        elapsed += seconds;
        int done = step + 1 - firstStep;
        char text[160];
        std::snprintf(text, sizeof(text), "step %d/%d loss %.6g, %.0f %s/s, %s left", step + 1,
                      steps, *loss.as<float>(), perStep / seconds, tokens ? "tokens" : "samples",
                      formatDuration(elapsed / done * (steps - step - 1)).c_str());
        if (progress.onTerminal() && step + 1 < steps)
          progress.status(text);
        else
          progress.finished(text);
      }
      // --save-every: a complete checkpoint every K steps (not after the last: the final
      // save below writes that one), in place once every rank has written its part.
      if (options.saveEvery > 0 && (step + 1) % options.saveEvery == 0 && step + 1 < steps) {
        PARC_RETURN_IF_ERROR(saveCheckpoint(checkpointStagingDir(options.saveDir), *executor,
                                            manifest, options.rank, groups, step + 1));
        if (world > 1)
          PARC_RETURN_IF_ERROR(groups["world"]->barrier());
        if (placement.distributed)
          PARC_RETURN_IF_ERROR(publishCheckpoint(options, placement, *groups["world"]));
        else if (options.rank == 0)
          PARC_RETURN_IF_ERROR(replaceCheckpoint(checkpointStagingDir(options.saveDir),
                                                 options.saveDir));
        if (world > 1)
          PARC_RETURN_IF_ERROR(groups["world"]->barrier());
      }
    }
    if (!options.saveDir.empty()) {
      PARC_RETURN_IF_ERROR(injectFault(options.rank, "save"));
      PARC_RETURN_IF_ERROR(saveCheckpoint(checkpointStagingDir(options.saveDir), *executor,
                                          manifest, options.rank, groups, steps));
    }
  }
  for (int i = 0; i < (manifest.training() ? 0 : options.repeat); ++i) {
    PARC_RETURN_IF_ERROR(injectFault(options.rank, std::to_string(i)));
    // Ranks start each run together, so a run's time and trace do not include a peer
    // still finishing the previous one.
    if (groups.count("world"))
      PARC_RETURN_IF_ERROR(groups["world"]->barrier());
    Clock::time_point runStart = Clock::now();
    PARC_RETURN_IF_ERROR(executor->run(timed));
    char text[32];
    std::snprintf(text, sizeof(text), " %.3f", milliseconds(runStart));
    runTimes += text;
  }
  int runs = manifest.training() ? steps : options.repeat;
  if (options.profile)
    printProfile(options.rank, *executor, runs);
  if (!options.profileJsonPath.empty() && options.rank == 0)
    PARC_RETURN_IF_ERROR(writeProfileJson(options.profileJsonPath, manifest.programs(0),
                                          *executor, runs, backend->describe()));
  if (!options.tracePath.empty()) {
    std::ofstream trace(rankTraceFile(options.workDir, options.rank));
    trace << rankTraceEvents(manifest, options.rank, *executor);
    if (!trace)
      return Status::error("cannot write the trace events of rank " +
                           std::to_string(options.rank));
  }
  if (options.report) {
    std::string graphs = executor->graphReplays() > 0
                             ? ", " + std::to_string(executor->graphReplays()) +
                                   " runs replayed a CUDA graph"
                             : "";
    std::printf("parc-run: rank %d: load %.1f ms, run ms:%s, peak RSS %.1f MiB%s\n",
                options.rank, loadMs, runTimes.c_str(), peakResidentBytes() / (1024.0 * 1024.0),
                graphs.c_str());
    std::fflush(stdout);
  }

  // Each output is written by the lowest rank that holds it.
  for (int i = 0; i < manifest.outputs_size(); ++i) {
    if (outputOwner(manifest, i) != options.rank)
      continue;
    std::string path = options.workDir + "/" + outputFileName(manifest.outputs(i).name());
    std::vector<char> storage;
    TensorRef output;
    PARC_RETURN_IF_ERROR(executor->outputOnHost(i, storage, output));
    PARC_RETURN_IF_ERROR(writeNpy(path, output));
  }
  // Leave together: a rank that exits while a peer is still reading from it can reset
  // the connection under that read.
  if (world > 1)
    PARC_RETURN_IF_ERROR(groups["world"]->barrier());
  if (placement.distributed && !options.saveDir.empty())
    PARC_RETURN_IF_ERROR(publishCheckpoint(options, placement, *groups["world"]));
  if (session.heartbeat)
    session.heartbeat->done();
  // The store outlives every rank's last request.
  if (session.server)
    session.server->waitUntilAllDone(10);
  return Status::ok();
}

/// Records this rank's failure where its launcher looks: the rank's error file for a
/// worker of parc-run's launcher, standard error for a rank another launcher started.
static void recordFailure(const LaunchOptions &options, const std::string &message,
                          bool connecting) {
  if (!options.worker) {
    std::fprintf(stderr, "parc-run: error: %s\n", printableOneLine(message).c_str());
    std::fflush(stderr);
    return;
  }
  // The launcher reports the earliest error: a rank that fails first makes its peers fail
  // too (their collectives lose the connection), and those later errors are only echoes.
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  std::ofstream(options.workDir + "/rank" + std::to_string(options.rank) + ".error")
      << std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() << "\n"
      << printableOneLine(message) << "\n"
      << (connecting ? kConnectingMarker : "") << "\n";
}

int parc::rt::runRankProcess(const LaunchOptions &given, const JobPlacement &placement) {
  LaunchOptions options = given;
  options.rank = placement.distributed ? placement.rank : given.rank;
  std::unique_ptr<CommContext> comm;
  RankPhase phase = RankPhase::Loading;
  JobSession session;
  // Another rank's failure, as the job store reports it: this rank ends at once, naming it.
  auto onAbort = [options](const std::string &message) {
    recordFailure(options, message, false);
    if (!options.worker && !options.workDir.empty()) {
      std::error_code error;
      std::filesystem::remove_all(options.workDir, error);
    }
    std::_Exit(1);
  };
  Status status = runRank(options, placement, session, onAbort, comm, phase);
  if (status)
    return 0;
  std::string message = status.message();
  if (placement.distributed) {
    // The job's first failure is the cause; this rank's error may be its echo (a closed
    // connection). Otherwise this rank is the first, and every node hears of it.
    std::string where = placement.where(options.rank);
    if (session.heartbeat) {
      // A peer's death reaches this rank through a closed connection and the store
      // through the peer's heartbeat connection at about the same time: give the store a
      // moment to name it.
      std::string abort;
      for (int wait = 0; wait < 10 && abort.empty(); ++wait) {
        abort = session.heartbeat->abortMessage();
        if (abort.empty())
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!abort.empty() && abort.find(where + ":") != 0)
        message = abort;
      else
        session.heartbeat->fail(message = where + ": " + message);
    } else {
      message = where + ": " + message;
    }
  }
  recordFailure(options, message, phase == RankPhase::Connecting);
  // Only now may the peers notice this rank is gone.
  comm.reset();
  session.heartbeat.reset();
  session.server.reset();
  return 1;
}

int parc::rt::runWorker(const LaunchOptions &options) {
  // A rank dies with its launcher: killed, the launcher cannot stop its ranks, and one
  // left waiting in a collective (or stopped) would outlive the job. The second look at
  // the parent catches a launcher that died before the request was made.
  pid_t launcher = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != launcher)
    return 1;
  // Across machines the launcher passes --nproc-per-node, which places this rank.
  JobPlacement placement;
  if (Status placed = placeJob(options, 0, placement); !placed) {
    recordFailure(options, placed.message(), false);
    return 1;
  }
  return runRankProcess(options, placement);
}
