//===- EmulatedDevice.cpp - running the CUDA backend without a GPU --------===//
//
// PARC_CUDA_EMULATOR=1 makes parc-run execute a --target=cuda artifact on the host: the
// kernels' CUDA C++ (stored in the artifact next to their cubins) is compiled with the
// host's C++ compiler ($PARC_CUDA_EMULATOR_CXX, default c++) together with the shim of
// EmulatorShim.h, and loaded with dlopen; GEMMs run by their definition (runGemmOnHost).
// Everything else — the CUDA backend's choice of kernels, arguments, launch shapes, GEMM
// plans, device memory and the staging of communication — is the code a GPU runs.
//
//===----------------------------------------------------------------------===//

#include "EmulatorShim.h"
#include "GemmPlan.h"
#include "GpuDevice.h"

#include "parc/artifact/artifact.pb.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <functional>
#include <unistd.h>

using namespace parc::rt;

namespace {

class EmulatedDevice : public GpuDevice {
public:
  explicit EmulatedDevice(std::string workDir) : workDir(std::move(workDir)) {}
  ~EmulatedDevice() override {
    if (library)
      dlclose(library);
  }

  std::string describe() const override {
    return "the CUDA emulator (host memory, kernels compiled for the host)";
  }
  bool hostMemory() const override { return true; }
  /// Few blocks, so that grid-stride loops take more than one turn.
  int64_t maxGridStrideBlocks(int) const override { return 4; }

  void *allocate(size_t bytes) override {
    return std::aligned_alloc(256, (std::max<size_t>(bytes, 1) + 255) / 256 * 256);
  }
  void deallocate(void *pointer) override { std::free(pointer); }
  Status copyToDevice(void *device, const void *host, size_t bytes) override {
    PARC_RETURN_IF_ERROR(notCapturing("a copy from the host"));
    std::memcpy(device, host, bytes);
    return Status::ok();
  }
  Status copyToHost(void *host, const void *device, size_t bytes) override {
    PARC_RETURN_IF_ERROR(notCapturing("a copy to the host"));
    std::memcpy(host, device, bytes);
    return Status::ok();
  }
  Status copyOnDevice(void *to, const void *from, size_t bytes) override {
    return queue([=] {
      std::memmove(to, from, bytes);
      return Status::ok();
    });
  }

  Status copyRowsOnDevice(void *to, size_t toPitch, const void *from, size_t fromPitch,
                          size_t width, size_t rows) override {
    return queue([=] {
      for (size_t r = 0; r < rows; ++r)
        std::memmove(static_cast<char *>(to) + r * toPitch,
                     static_cast<const char *>(from) + r * fromPitch, width);
      return Status::ok();
    });
  }
  Status loadKernels(const parc::artifact::Manifest &manifest) override;
  Status launch(int kernel, LaunchShape shape, const std::vector<void *> &args) override {
    if (kernel < 0 || kernel >= static_cast<int>(entries.size()))
      return Status::error("no kernel " + std::to_string(kernel) + " in the artifact");
    return queue([this, kernel, shape, args] {
      std::vector<void *> arguments = args;
      if (launchKernel(entries[kernel], shape.blocks, shape.threads, arguments.data()))
        return Status::error("the emulator cannot run blocks of " +
                             std::to_string(shape.threads) + " threads");
      return Status::ok();
    });
  }
  Status gemm(const GemmCall &call) override {
    return queue([call] { return runGemmOnHost(call); });
  }
  Status synchronize() override { return notCapturing("a synchronisation"); }

  /// Capture records each queued operation; replay runs the recording in order.
  Status beginCapture() override {
    capturing = true;
    graph.clear();
    return Status::ok();
  }
  Status endCapture() override {
    capturing = false;
    return Status::ok();
  }
  Status replay() override {
    if (graph.empty())
      return Status::error("the captured CUDA graph is empty");
    for (const auto &operation : graph)
      PARC_RETURN_IF_ERROR(operation());
    return Status::ok();
  }

private:
  /// Runs `operation` now, or records it while capturing.
  Status queue(std::function<Status()> operation) {
    if (!capturing)
      return operation();
    graph.push_back(std::move(operation));
    return Status::ok();
  }
  Status notCapturing(const char *what) const {
    return capturing ? Status::error(std::string(what) + " cannot be captured in a CUDA graph")
                     : Status::ok();
  }

  bool capturing = false;
  std::vector<std::function<Status()>> graph;
  std::string workDir;
  void *library = nullptr;
  using Entry = void (*)(void **);
  std::vector<Entry> entries;
  int (*launchKernel)(Entry, long long, long long, void **) = nullptr;
};

Status EmulatedDevice::loadKernels(const parc::artifact::Manifest &manifest) {
  // One translation unit: the shim, then each kernel in a namespace of its own (each
  // source carries the same prelude) with an entry point taking its arguments as void*.
  std::string source = kEmulatorShim;
  for (const parc::artifact::CudaKernel &kernel : manifest.cuda_kernels()) {
    std::string space = "parc_source_" + kernel.name();
    source += "namespace " + space + " {\n" + kernel.source() + "}\nextern \"C\" void parc_call_" +
              kernel.name() + "(void **args) { parc_emu::invoke(" + space +
              "::" + kernel.name() + ", args); }\n";
  }
  std::string base = workDir + "/cuda-emulator-" + std::to_string(getpid());
  {
    std::ofstream file(base + ".cpp");
    file << source;
    if (!file)
      return Status::error("the CUDA emulator cannot write " + base + ".cpp");
  }
  const char *compiler = std::getenv("PARC_CUDA_EMULATOR_CXX");
  std::string command = std::string(compiler && *compiler ? compiler : "c++") +
                        " -std=c++17 -O1 -w -shared -fPIC -o " + base + ".so " + base +
                        ".cpp > " + base + ".log 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream log(base + ".log");
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    return Status::error("the CUDA emulator could not compile the artifact's kernels (" +
                         command + "):\n" + text.substr(0, 4000));
  }
  library = dlopen((base + ".so").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return Status::error(std::string("the CUDA emulator cannot load its kernels: ") + dlerror());
  launchKernel = reinterpret_cast<decltype(launchKernel)>(dlsym(library, "parc_emulator_launch"));
  for (const parc::artifact::CudaKernel &kernel : manifest.cuda_kernels()) {
    auto entry = reinterpret_cast<Entry>(dlsym(library, ("parc_call_" + kernel.name()).c_str()));
    if (!entry || !launchKernel)
      return Status::error("the CUDA emulator's library lacks " + kernel.name());
    entries.push_back(entry);
  }
  return Status::ok();
}

} // namespace

std::unique_ptr<GpuDevice> parc::rt::openEmulatedDevice(const std::string &workDir,
                                                        Status &status) {
  status = Status::ok();
  return std::make_unique<EmulatedDevice>(workDir);
}
