//===- Worker.cpp - one rank of parc-run ----------------------------------===//

#include "Worker.h"

#include "Trace.h"

#include "parc/Runtime/Artifact.h"
#include "parc/Runtime/Communicator.h"
#include "parc/Runtime/Executor.h"
#include "parc/Runtime/Npy.h"
#include "parc/Runtime/ProcessMemory.h"

#include "parc/artifact/artifact.pb.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <thread>

using namespace parc::rt;
namespace pa = parc::artifact;

std::string parc::rt::outputFileName(const std::string &outputName) {
  std::string file = outputName;
  std::replace(file.begin(), file.end(), '/', '_');
  return file + ".npy";
}

/// Prints where a rank's time went: per op kind, and the ten slowest instructions.
static void printProfile(int rank, const Executor &executor, int runs) {
  const std::vector<double> &ms = executor.instructionMilliseconds();
  const std::vector<std::string> &labels = executor.instructionLabels();
  std::map<std::string, std::pair<double, int>> byOp;
  double total = 0;
  for (size_t i = 0; i < ms.size(); ++i) {
    std::string op = labels[i].substr(labels[i].rfind('(') + 1);
    op.pop_back();
    byOp[op].first += ms[i] / runs;
    byOp[op].second += 1;
    total += ms[i] / runs;
  }
  std::vector<std::pair<double, std::string>> ops;
  for (const auto &[op, entry] : byOp)
    ops.push_back({entry.first, op});
  std::sort(ops.rbegin(), ops.rend());
  std::printf("parc-run: rank %d profile, %.2f ms per run:\n", rank, total);
  for (const auto &[time, op] : ops)
    std::printf("  %-16s %9.3f ms %5.1f%% (%d instructions)\n", op.c_str(), time,
                100 * time / total, byOp[op].second);
  std::vector<size_t> order(ms.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ms[a] > ms[b]; });
  std::printf("  slowest instructions:\n");
  for (size_t k = 0; k < std::min<size_t>(10, order.size()); ++k)
    std::printf("    %9.3f ms  %s\n", ms[order[k]] / runs, labels[order[k]].c_str());
  std::fflush(stdout);
}

/// Runs the rank; any problem comes back as a Status. `comm` is owned by the caller so that
/// the connections to the other ranks outlive a failure until it has been recorded.
static Status runRank(const LaunchOptions &options,
                      std::unique_ptr<CommContext> &comm) {
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
  int threads = options.threads;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency() /
                               static_cast<unsigned>(manifest.world_size()));
  std::unique_ptr<Backend> backend = createCpuBackend(threads);

  // Ranks are laid out as Megatron does: rank = (dp * pp_size + pp) * tp_size + tp.
  CommunicatorGroups groups;
  int world = manifest.world_size();
  if (world > 1) {
    double timeout = options.timeoutSeconds > 0 ? options.timeoutSeconds : 300;
    comm = CommContext::connect(options.rank, world, options.workDir + "/rendezvous",
                                timeout, status);
    if (!comm)
      return status;
    int tp = static_cast<int>(manifest.mesh().tp());
    std::vector<int> tpRanks;
    for (int i = 0; i < tp; ++i)
      tpRanks.push_back(options.rank - options.rank % tp + i);
    groups["tp"] = comm->group(tpRanks, status);
    if (!groups["tp"])
      return status;
    // Pipeline transfers name their peer by world rank.
    groups["world"] = comm->world(status);
    if (!groups["world"])
      return status;
  }
  std::unique_ptr<Executor> executor =
      Executor::create(*artifact, options.rank, *backend, groups, status);
  if (!executor)
    return status;

  for (int i = 0; i < manifest.inputs_size(); ++i) {
    const std::string &name = manifest.inputs(i).name();
    for (const auto &[given, path] : options.inputs) {
      if (given != name)
        continue;
      NpyArray array;
      PARC_RETURN_IF_ERROR(readNpy(path, array));
      TensorRef buffer = executor->input(i);
      if (array.data.size() != buffer.bytes())
        return Status::error("input '" + name + "' changed size while running");
      std::memcpy(buffer.data, array.data.data(), array.data.size());
    }
  }
  double loadMs = milliseconds(loadStart);
  executor->setTracing(!options.tracePath.empty());
  std::string runTimes;
  for (int i = 0; i < options.repeat; ++i) {
    // Ranks start each run together, so a run's time and trace do not include a peer
    // still finishing the previous one.
    if (groups.count("world"))
      PARC_RETURN_IF_ERROR(groups["world"]->barrier());
    Clock::time_point runStart = Clock::now();
    PARC_RETURN_IF_ERROR(executor->run(options.profile));
    char text[32];
    std::snprintf(text, sizeof(text), " %.3f", milliseconds(runStart));
    runTimes += text;
  }
  if (options.profile)
    printProfile(options.rank, *executor, options.repeat);
  if (!options.tracePath.empty()) {
    std::ofstream trace(rankTraceFile(options.workDir, options.rank));
    trace << rankTraceEvents(manifest, options.rank, *executor);
    if (!trace)
      return Status::error("cannot write the trace events of rank " +
                           std::to_string(options.rank));
  }
  if (options.report) {
    std::printf("parc-run: rank %d: load %.1f ms, run ms:%s, peak RSS %.1f MiB\n",
                options.rank, loadMs, runTimes.c_str(),
                peakResidentBytes() / (1024.0 * 1024.0));
    std::fflush(stdout);
  }

  // Each output is written by the lowest rank that holds it.
  for (int i = 0; i < manifest.outputs_size(); ++i) {
    int owner = -1;
    for (int r = 0; r < manifest.programs_size() && owner < 0; ++r)
      if (manifest.programs(r).outputs(i) >= 0)
        owner = r;
    if (owner != options.rank)
      continue;
    std::string path = options.workDir + "/" + outputFileName(manifest.outputs(i).name());
    PARC_RETURN_IF_ERROR(writeNpy(path, executor->output(i)));
  }
  return Status::ok();
}

int parc::rt::runWorker(const LaunchOptions &options) {
  std::unique_ptr<CommContext> comm;
  Status status = runRank(options, comm);
  if (status)
    return 0;
  // The launcher reports the earliest error: a rank that fails first makes its peers fail
  // too (their collectives lose the connection), and those later errors are only echoes.
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  std::ofstream(options.workDir + "/rank" + std::to_string(options.rank) + ".error")
      << std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() << "\n"
      << status.message() << "\n";
  // Only now may the peers notice this rank is gone.
  comm.reset();
  return 1;
}
