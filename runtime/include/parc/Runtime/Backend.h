//===- Backend.h - what a device backend implements -------------*- C++ -*-===//
//
// A backend binds each instruction of a program to a kernel on its device and owns device
// memory. The executor drives any backend the same way; the CPU backend is the reference, and
// the CUDA backend implements the same interface.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_BACKEND_H
#define PARC_RUNTIME_BACKEND_H

#include "parc/Runtime/Status.h"
#include "parc/Runtime/TensorRef.h"

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace parc::artifact {
class Instruction;
} // namespace parc::artifact

namespace parc::rt {

class Communicator;

/// The groups a rank communicates in, by mesh axis ("tp", "dp", "pp").
using CommunicatorGroups = std::map<std::string, Communicator *>;

/// A kernel bound to its operands and results, ready to run.
using BoundKernel = std::function<Status()>;

class Backend {
public:
  virtual ~Backend() = default;
  /// "cpu" or "cuda".
  virtual const char *name() const = 0;
  /// Binds one instruction to a kernel; an op this backend lacks is an error naming it.
  /// The instruction's typed params (artifact.proto) say what its kind carries;
  /// collectives run over the communicator `groups` names for their group.
  virtual Status bind(const parc::artifact::Instruction &inst,
                      const std::vector<TensorRef> &operands,
                      const std::vector<TensorRef> &results,
                      const CommunicatorGroups &groups, BoundKernel &kernel) = 0;
  /// Device memory for the arena and inputs, 64-byte aligned; null when out of memory.
  virtual void *allocate(size_t bytes) = 0;
  virtual void deallocate(void *pointer) = 0;

  /// True when device memory is host memory the executor may read and write itself (and
  /// may point into the mapped artifact for weights). Otherwise weights, constants,
  /// inputs, outputs and pipeline transfers go through upload() and download().
  virtual bool hostAddressable() const { return true; }
  // An empty tensor's host bytes may be a null pointer, which memcpy must not be given.
  virtual Status upload(void *device, const void *host, size_t bytes) {
    if (bytes > 0)
      std::memcpy(device, host, bytes);
    return Status::ok();
  }
  virtual Status download(void *host, const void *device, size_t bytes) {
    if (bytes > 0)
      std::memcpy(host, device, bytes);
    return Status::ok();
  }
  /// Runs after the last instruction of a run (a GPU waits for its queued work).
  virtual Status finishRun() { return Status::ok(); }
  /// What runs the program, for messages: "cpu", or the GPU's name.
  virtual std::string describe() const { return name(); }
  /// CUDA graphs: ok when every bound instruction only queues work on the device (no host
  /// staging), so that a run can be captured once and replayed, else why not; then
  /// beginCapture, the instructions, endCapture, and replay() for each run.
  virtual Status checkCapturable() const {
    return Status::error("the " + describe() + " backend has no CUDA graphs");
  }
  virtual Status beginCapture() { return Status::error(describe() + " has no graphs"); }
  virtual Status endCapture() { return Status::error(describe() + " has no graphs"); }
  virtual Status replay() { return Status::error(describe() + " has no graphs"); }
  /// Per-instruction timing on the device (a GPU's events) for --profile: the executor
  /// marks each instruction's start and end and, after the run, adds the times.
  /// Otherwise it times instructions on the host, waiting for each (finishRun).
  virtual bool timesOnDevice() const { return false; }
  virtual Status markInstruction(size_t index, bool end) { return Status::ok(); }
  virtual Status addInstructionMilliseconds(std::vector<double> &ms) { return Status::ok(); }
};

/// The CPU backend: kernels on the host, GEMMs through OpenBLAS, `threads` threads.
std::unique_ptr<Backend> createCpuBackend(int threads);

} // namespace parc::rt

#endif // PARC_RUNTIME_BACKEND_H
