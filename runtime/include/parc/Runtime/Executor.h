//===- Executor.h - running one rank's program ------------------*- C++ -*-===//
//
// Binds one rank's program of an artifact to a backend (arena, weights mapped from the file,
// literals, inputs) and runs its instructions in the order the compiler fixed.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_EXECUTOR_H
#define PARC_RUNTIME_EXECUTOR_H

#include "parc/Runtime/Artifact.h"
#include "parc/Runtime/Backend.h"

#include <memory>
#include <vector>

namespace parc::rt {

class TransferTable;
class AsyncCollectives;

/// When one instruction ran: microseconds on the steady clock (shared by the processes of
/// one machine, so ranks' spans line up).
struct InstructionSpan {
  double startMicros = 0;
  double endMicros = 0;
};

class Executor {
public:
  ~Executor();
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;

  /// Prepares rank `rank` of `artifact` on `backend`, communicating over `groups` (all must
  /// outlive the executor): collectives over the group their instruction names, pipeline
  /// transfers over "world".
  static std::unique_ptr<Executor> create(const Artifact &artifact, int rank,
                                          Backend &backend,
                                          const CommunicatorGroups &groups,
                                          Status &status);

  /// The buffer of graph input `index` (manifest order), to fill before run() with
  /// setInput (its memory may be a GPU's).
  TensorRef input(int index) const { return inputs[index]; }
  /// Copies graph input `index` from host memory (input(index).bytes() bytes).
  Status setInput(int index, const void *host);
  /// Runs every instruction once. With `profile`, adds each instruction's time to
  /// instructionMilliseconds().
  Status run(bool profile = false);
  /// Accumulated time of each instruction over profiled runs, and its "node (op)" label.
  const std::vector<double> &instructionMilliseconds() const { return kernelMs; }
  const std::vector<std::string> &instructionLabels() const { return kernelNames; }
  /// Graph output `index` as this rank holds it; data is null where it does not produce it.
  TensorRef output(int index) const { return outputs[index]; }
  /// Output `index` in host memory: `host` views it directly, or a copy in `storage`.
  Status outputOnHost(int index, std::vector<char> &storage, TensorRef &host) const;
  /// The weights this program writes (assign_weight: trained weights and optimizer
  /// state), by name, in writable memory of their own.
  const std::vector<std::pair<std::string, TensorRef>> &mutableWeights() const {
    return writable;
  }
  /// Records when each instruction of the following runs starts and ends.
  void setTracing(bool enabled) { tracing = enabled; }
  /// CUDA graphs (parc-run --cuda-graphs): the first run runs as usual (a warm-up), the
  /// second is captured, and every later run replays the capture. Profiled and traced runs
  /// run as usual. An error (and nothing enabled) when the backend cannot capture the
  /// program: no graphs, or communication staged through the host.
  Status enableGraphs();
  /// Runs that replayed the captured graph.
  int graphReplays() const { return replays; }
  /// Each instruction's span in the last traced run.
  const std::vector<InstructionSpan> &lastRunSpans() const { return spans; }

private:
  Executor(Backend &backend);
  /// Runs instruction `index`; an error names its node.
  Status runInstruction(size_t index);

  Backend &backend;
  void *arena = nullptr;
  std::vector<void *> allocations;
  std::vector<TensorRef> inputs;
  std::vector<TensorRef> outputs;
  std::vector<BoundKernel> kernels;
  std::vector<std::string> kernelNames;
  std::vector<double> kernelMs;
  std::unique_ptr<TransferTable> transfers;
  std::unique_ptr<AsyncCollectives> asyncCollectives;
  std::vector<std::pair<std::string, TensorRef>> writable;
  bool tracing = false;
  /// Some pipeline transfer is staged through host memory (no graph can hold it).
  bool stagedTransfers = false;
  enum class GraphState { Off, WarmingUp, Capturing, Captured } graphState = GraphState::Off;
  int replays = 0;
  std::vector<InstructionSpan> spans;
};

} // namespace parc::rt

#endif // PARC_RUNTIME_EXECUTOR_H
