//===- Executor.cpp - running one rank's program --------------------------===//

#include "parc/Runtime/Executor.h"

#include "CollectiveQueue.h"
#include "Transfers.h"

#include "parc/Runtime/ProcessMemory.h"
#include "parc/artifact/artifact.pb.h"

#include <chrono>
#include <map>
#include <cstring>

using namespace parc::rt;
namespace pa = parc::artifact;

Executor::Executor(Backend &backend)
    : backend(backend), transfers(std::make_unique<TransferTable>()),
      asyncCollectives(std::make_unique<AsyncCollectives>()) {}

Executor::~Executor() {
  for (void *pointer : allocations)
    backend.deallocate(pointer);
}

std::unique_ptr<Executor> Executor::create(const Artifact &artifact, int rank,
                                           Backend &backend,
                                           const CommunicatorGroups &groups,
                                           Status &status) {
  const pa::Manifest &manifest = artifact.manifest();
  const pa::Program &program = manifest.programs(rank);
  // What would not fit in this machine's memory is refused before anything is allocated,
  // naming it (a corrupt or foreign artifact can declare any size). The launcher puts the
  // rank before every message.
  if (backend.hostAddressable()) {
    uint64_t memory = physicalMemoryBytes();
    auto tooLarge = [&](const std::string &what, uint64_t bytes) {
      return Status::error(what + " needs " +
                           std::to_string(bytes) + " bytes (" + formatBytes(bytes) +
                           "), more than this machine's memory (" + formatBytes(memory) + ")");
    };
    uint64_t total = program.arena_bytes();
    if (memory > 0 && program.arena_bytes() > memory) {
      status = tooLarge("the activation arena", program.arena_bytes());
      return nullptr;
    }
    for (const pa::GraphValue &input : manifest.inputs()) {
      uint64_t bytes = 0;
      if (!tensorBytes(input.type(), bytes) || (memory > 0 && bytes > memory)) {
        status = tooLarge("input '" + input.name() + "' of shape " +
                              formatShape(toShape(input.type())),
                          bytes);
        return nullptr;
      }
      total += bytes;
    }
    if (memory > 0 && total > memory) {
      status = tooLarge("the arena and the inputs together", total);
      return nullptr;
    }
  }
  std::unique_ptr<Executor> executor(new Executor(backend));
  bool outOfMemory = false;
  auto allocate = [&](size_t bytes) {
    void *pointer = backend.allocate(std::max<size_t>(bytes, 1));
    outOfMemory |= !pointer;
    if (pointer)
      executor->allocations.push_back(pointer);
    return pointer;
  };
  // Device memory holds its own copy of what the host provides (weights, literals).
  bool hostMemory = backend.hostAddressable();
  Status copied = Status::ok();
  auto copyToDevice = [&](const void *host, size_t bytes) -> void * {
    void *pointer = allocate(bytes);
    if (pointer && copied)
      copied = backend.upload(pointer, host, bytes);
    return pointer;
  };
  executor->arena = allocate(program.arena_bytes());
  for (const pa::GraphValue &input : manifest.inputs()) {
    TensorRef ref{nullptr, toDType(input.type().dtype()), toShape(input.type())};
    ref.data = allocate(ref.bytes());
    executor->inputs.push_back(ref);
  }

  // Weights that assign_weight instructions write get a writable copy (the file is mapped
  // read-only); every value of that weight shares it, so later loads see the update.
  std::map<int, void *> writableShards;
  for (const pa::Instruction &inst : program.instructions()) {
    if (inst.op() != "assign_weight" || inst.operands_size() != 2)
      continue;
    const pa::Value &target = program.values(inst.operands(0));
    if (target.storage_case() != pa::Value::kWeight)
      continue;
    int shard = target.weight();
    if (writableShards.count(shard))
      continue;
    const pa::WeightShard &weight = manifest.weights(shard);
    void *copy = copyToDevice(artifact.weightData(shard), weight.size());
    writableShards[shard] = copy;
    executor->writable.push_back(
        {weight.name(), TensorRef{copy, toDType(weight.type().dtype()), toShape(weight.type())}});
  }

  // Every value of the program, bound to its memory.
  std::map<int, void *> deviceShards;
  std::vector<TensorRef> values;
  for (const pa::Value &value : program.values()) {
    TensorRef ref{nullptr, toDType(value.type().dtype()), toShape(value.type())};
    switch (value.storage_case()) {
    case pa::Value::kArenaOffset:
      ref.data = static_cast<char *>(executor->arena) + value.arena_offset();
      break;
    case pa::Value::kWeight: {
      auto copy = writableShards.find(value.weight());
      if (copy != writableShards.end()) {
        ref.data = copy->second;
      } else if (hostMemory) {
        ref.data = const_cast<void *>(artifact.weightData(value.weight()));
      } else {
        // One device copy per shard, however many values load it.
        void *&device = deviceShards[value.weight()];
        if (!device)
          device = copyToDevice(artifact.weightData(value.weight()),
                                manifest.weights(value.weight()).size());
        ref.data = device;
      }
      break;
    }
    case pa::Value::kConstant:
      ref.data = copyToDevice(value.constant().data(), value.constant().size());
      break;
    case pa::Value::kInput:
      ref.data = executor->inputs[value.input()].data;
      break;
    default:
      break;
    }
    values.push_back(ref);
  }

  if (outOfMemory) {
    status = Status::error(backend.describe() + " is out of memory (the arena alone needs " +
                           std::to_string(program.arena_bytes()) + " bytes)");
    return nullptr;
  }
  if (!copied) {
    status = copied;
    return nullptr;
  }

  // Groups with non-blocking all-reduces run all their collectives on a queue.
  CommunicatorGroups programGroups = executor->asyncCollectives->prepare(program, groups);
  for (const pa::Instruction &inst : program.instructions()) {
    std::vector<TensorRef> operands, results;
    for (int id : inst.operands())
      operands.push_back(values[id]);
    for (int id : inst.results())
      results.push_back(values[id]);
    BoundKernel kernel;
    std::string where = inst.location().empty()
                            ? "(" + inst.op() + ")"
                            : "node '" + inst.location() + "' (" + inst.op() + ")";
    Status bound;
    if (isTransfer(inst.op())) {
      auto world = groups.find("world");
      bound = bindTransfer(inst, operands, results,
                           world == groups.end() ? nullptr : world->second,
                           *executor->transfers, hostMemory ? nullptr : &backend, kernel);
      executor->stagedTransfers |= !hostMemory;
    } else if (AsyncCollectives::isAsync(inst.op()) && !hostMemory) {
      bound = Status::error("non-blocking all-reduces (training's gradient buckets) run on "
                            "the cpu backend only");
    } else if (AsyncCollectives::isAsync(inst.op())) {
      bound = executor->asyncCollectives->bind(inst, operands, results, kernel);
    } else {
      bound = backend.bind(inst, operands, results, programGroups, kernel);
    }
    if (!bound) {
      status = Status::error(where + ": " + bound.message());
      return nullptr;
    }
    executor->kernels.push_back(std::move(kernel));
    executor->kernelNames.push_back(std::move(where));
  }
  for (int id : program.outputs())
    executor->outputs.push_back(id < 0 ? TensorRef{} : values[id]);
  status = Status::ok();
  return executor;
}

Status Executor::enableGraphs() {
  PARC_RETURN_IF_ERROR(backend.checkCapturable());
  if (stagedTransfers)
    return Status::error("its pipeline transfers are staged through host memory");
  graphState = GraphState::WarmingUp;
  return Status::ok();
}

Status Executor::run(bool profile) {
  if (graphState != GraphState::Off && !profile && !tracing) {
    if (graphState == GraphState::WarmingUp) {
      graphState = GraphState::Capturing; // the next run is captured
    } else {
      if (graphState == GraphState::Capturing) {
        PARC_RETURN_IF_ERROR(backend.beginCapture());
        for (size_t i = 0; i < kernels.size(); ++i)
          if (Status status = runInstruction(i); !status) {
            (void)backend.endCapture();
            return status;
          }
        PARC_RETURN_IF_ERROR(backend.endCapture());
        graphState = GraphState::Captured;
      }
      PARC_RETURN_IF_ERROR(backend.replay());
      ++replays;
      return backend.finishRun();
    }
  }
  using Clock = std::chrono::steady_clock;
  auto micros = [](Clock::time_point t) {
    return std::chrono::duration<double, std::micro>(t.time_since_epoch()).count();
  };
  if (profile)
    kernelMs.resize(kernels.size(), 0.0);
  if (tracing)
    spans.assign(kernels.size(), InstructionSpan{});
  bool onDevice = profile && !tracing && backend.timesOnDevice();
  for (size_t i = 0; i < kernels.size(); ++i) {
    if (onDevice)
      PARC_RETURN_IF_ERROR(backend.markInstruction(i, false));
    auto start = Clock::now();
    PARC_RETURN_IF_ERROR(runInstruction(i));
    if (onDevice) {
      PARC_RETURN_IF_ERROR(backend.markInstruction(i, true));
      continue;
    }
    if (!profile && !tracing)
      continue;
    PARC_RETURN_IF_ERROR(backend.finishRun()); // a GPU's time is the kernel's, not its launch's
    auto end = Clock::now();
    if (profile)
      kernelMs[i] += std::chrono::duration<double, std::milli>(end - start).count();
    if (tracing)
      spans[i] = {micros(start), micros(end)};
  }
  PARC_RETURN_IF_ERROR(backend.finishRun());
  if (onDevice)
    PARC_RETURN_IF_ERROR(backend.addInstructionMilliseconds(kernelMs));
  return Status::ok();
}

Status Executor::runInstruction(size_t index) {
  Status status = kernels[index]();
  if (!status)
    return Status::error(kernelNames[index] + ": " + status.message());
  return Status::ok();
}

Status Executor::setInput(int index, const void *host) {
  return backend.upload(inputs[index].data, host, inputs[index].bytes());
}

Status Executor::outputOnHost(int index, std::vector<char> &storage, TensorRef &host) const {
  host = outputs[index];
  if (!host.data || backend.hostAddressable())
    return Status::ok();
  storage.resize(host.bytes());
  PARC_RETURN_IF_ERROR(backend.download(storage.data(), host.data, host.bytes()));
  host.data = storage.data();
  return Status::ok();
}
