//===- FakeCuda.h - a host-memory fake of the NVIDIA driver -----*- C++ -*-===//
//
// A table of driver entry points (cuda::Driver) that works on host memory and records what
// it is asked, following cuda.h's contracts: device memory is malloc'd, copies are memcpy,
// a module loads when its image starts with "good", a launch records its function, dims,
// stream and the argument values its parameter pointers point to (two), events time 1.5
// ms, graph capture and launch are recorded. Tests of the CUDA backend's device and
// collectives drive the real code through it.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_UNITTESTS_FAKECUDA_H
#define PARC_RUNTIME_UNITTESTS_FAKECUDA_H

#include "cuda/CudaApi.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace parc::rt::test {

/// What the fake driver was asked.
struct Recorded {
  std::vector<std::string> calls;
  std::vector<std::string> functions; // names given to cuModuleGetFunction
  std::string launched;
  unsigned grid[3] = {0, 0, 0}, block[3] = {0, 0, 0};
  std::vector<void *> arguments;
  cuda::Stream launchStream = nullptr;
};
inline Recorded recorded;
inline cuda::Stream const kStream = reinterpret_cast<cuda::Stream>(0x51);
/// The compute capability the fake reports (major; minor is 0).
inline int capabilityMajor = 9;

/// Host memory the fake handed out as pinned (cuMemHostAlloc): a pinned buffer is 8 MB,
/// so a pointer within 8 MB of one's start is inside it.
inline std::vector<void *> pinned;
inline bool isPinned(const void *pointer) {
  for (void *start : pinned)
    if (pointer >= start && pointer < static_cast<char *>(start) + (8u << 20))
      return true;
  return false;
}

/// The CUDA version the fake driver reports (cuDriverGetVersion).
inline int driverVersion = 13000;

/// Images the fake loads: those starting with "good"; PTX it cannot read starts with "new".
inline cuda::Result loadImage(cuda::Module *module, const void *image) {
  if (std::strncmp(static_cast<const char *>(image), "new", 3) == 0)
    return 222; // CUDA_ERROR_UNSUPPORTED_PTX_VERSION
  if (std::strncmp(static_cast<const char *>(image), "good", 4) != 0)
    return 200; // CUDA_ERROR_INVALID_IMAGE
  *module = reinterpret_cast<cuda::Module>(const_cast<void *>(image));
  return 0;
}

inline cuda::Driver fakeDriver() {
  cuda::Driver d{};
  d.init = [](unsigned) { return 0; };
  d.deviceGet = [](cuda::Device *device, int ordinal) {
    *device = ordinal;
    return 0;
  };
  d.deviceGetName = [](char *name, int length, cuda::Device) {
    std::strncpy(name, "Fake GPU", length);
    return 0;
  };
  d.deviceGetAttribute = [](int *value, int attribute, cuda::Device) {
    *value = attribute == cuda::kAttributeMultiprocessorCount        ? 4
             : attribute == cuda::kAttributeComputeCapabilityMajor ? capabilityMajor
                                                                    : 0;
    return 0;
  };
  d.primaryCtxRetain = [](cuda::Context *context, cuda::Device) {
    *context = reinterpret_cast<cuda::Context>(0x1);
    return 0;
  };
  d.ctxSetCurrent = [](cuda::Context) { return 0; };
  d.streamCreate = [](cuda::Stream *stream, unsigned flags) {
    recorded.calls.push_back("streamCreate " + std::to_string(flags));
    *stream = kStream;
    return 0;
  };
  d.streamSynchronize = [](cuda::Stream) { return 0; };
  d.memAlloc = [](cuda::DevicePointer *pointer, size_t bytes) {
    *pointer = reinterpret_cast<cuda::DevicePointer>(std::malloc(bytes));
    return 0;
  };
  d.memFree = [](cuda::DevicePointer pointer) {
    std::free(reinterpret_cast<void *>(pointer));
    return 0;
  };
  d.memHostAlloc = [](void **pointer, size_t bytes, unsigned) {
    *pointer = std::malloc(bytes);
    pinned.push_back(*pointer);
    return 0;
  };
  d.memFreeHost = [](void *pointer) {
    std::free(pointer);
    return 0;
  };
  d.memcpyHtoDAsync = [](cuda::DevicePointer to, const void *from, size_t bytes,
                         cuda::Stream stream) {
    recorded.calls.push_back(std::string("HtoDAsync ") + (stream == kStream ? "compute" : "other") +
                             (isPinned(from) ? " pinned" : " pageable"));
    std::memcpy(reinterpret_cast<void *>(to), from, bytes);
    return 0;
  };
  d.memcpyDtoHAsync = [](void *to, cuda::DevicePointer from, size_t bytes,
                         cuda::Stream stream) {
    recorded.calls.push_back(std::string("DtoHAsync ") + (stream == kStream ? "compute" : "other") +
                             (isPinned(to) ? " pinned" : " pageable"));
    std::memcpy(to, reinterpret_cast<void *>(from), bytes);
    return 0;
  };
  d.memcpyDtoDAsync = [](cuda::DevicePointer to, cuda::DevicePointer from, size_t bytes,
                         cuda::Stream stream) {
    std::memcpy(reinterpret_cast<void *>(to), reinterpret_cast<void *>(from), bytes);
    return stream == kStream ? 0 : 1;
  };
  d.memcpy2DAsync = [](const cuda::Memcpy2D *copy, cuda::Stream stream) {
    if (copy->srcMemoryType != cuda::kMemoryTypeDevice ||
        copy->dstMemoryType != cuda::kMemoryTypeDevice || stream != kStream)
      return 1;
    for (size_t row = 0; row < copy->Height; ++row)
      std::memcpy(reinterpret_cast<char *>(copy->dstDevice) + row * copy->dstPitch,
                  reinterpret_cast<const char *>(copy->srcDevice) + row * copy->srcPitch,
                  copy->WidthInBytes);
    return 0;
  };
  d.moduleLoadData = loadImage;
  d.moduleGetFunction = [](cuda::Function *function, cuda::Module, const char *name) {
    recorded.functions.push_back(name);
    *function = reinterpret_cast<cuda::Function>(recorded.functions.size());
    return 0;
  };
  d.launchKernel = [](cuda::Function function, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                      unsigned by, unsigned bz, unsigned, cuda::Stream stream, void **params,
                      void **extra) {
    recorded.launched = recorded.functions[reinterpret_cast<size_t>(function) - 1];
    recorded.grid[0] = gx, recorded.grid[1] = gy, recorded.grid[2] = gz;
    recorded.block[0] = bx, recorded.block[1] = by, recorded.block[2] = bz;
    recorded.launchStream = stream;
    recorded.arguments.clear();
    for (int i = 0; i < 2; ++i) // the test's kernels take two pointers
      recorded.arguments.push_back(*static_cast<void **>(params[i]));
    return extra == nullptr ? 0 : 1;
  };
  // Six blocks of 256 threads fit on a multiprocessor (34 registers a thread), eight of
  // fewer threads.
  d.occupancyMaxActiveBlocksPerMultiprocessor = [](int *blocks, cuda::Function, int threads,
                                                   size_t) {
    *blocks = threads >= 256 ? 6 : 8;
    return 0;
  };
  d.eventCreate = [](cuda::Event *event, unsigned) {
    static int events = 0;
    *event = reinterpret_cast<cuda::Event>(static_cast<size_t>(++events));
    return 0;
  };
  d.eventRecord = [](cuda::Event, cuda::Stream stream) { return stream == kStream ? 0 : 1; };
  d.eventSynchronize = [](cuda::Event) { return 0; };
  d.eventElapsedTime = [](float *ms, cuda::Event, cuda::Event) {
    *ms = 1.5f;
    return 0;
  };
  d.streamWaitEvent = [](cuda::Stream, cuda::Event, unsigned) { return 0; };
  d.streamBeginCapture = [](cuda::Stream stream, int mode) {
    recorded.calls.push_back("beginCapture " + std::to_string(mode));
    return stream == kStream ? 0 : 1;
  };
  d.streamEndCapture = [](cuda::Stream, cuda::Graph *graph) {
    recorded.calls.push_back("endCapture");
    *graph = reinterpret_cast<cuda::Graph>(0x9);
    return 0;
  };
  d.graphInstantiate = [](cuda::GraphExec *exec, cuda::Graph graph, unsigned long long) {
    recorded.calls.push_back("instantiate");
    *exec = reinterpret_cast<cuda::GraphExec>(graph);
    return 0;
  };
  d.graphLaunch = [](cuda::GraphExec, cuda::Stream stream) {
    recorded.calls.push_back("graphLaunch");
    return stream == kStream ? 0 : 1;
  };
  d.getErrorString = [](cuda::Result result, const char **text) {
    *text = result == 200   ? "device kernel image is invalid"
            : result == 222 ? "the provided PTX was compiled with an unsupported toolchain."
                            : "fake error";
    return 0;
  };
  d.driverGetVersion = [](int *version) {
    *version = driverVersion;
    return 0;
  };
  return d;
}

inline cuda::BlasLt fakeBlas() {
  cuda::BlasLt blas{};
  blas.create = [](cuda::LtHandle *handle) {
    *handle = reinterpret_cast<cuda::LtHandle>(1);
    return 0;
  };
  return blas;
}

} // namespace parc::rt::test

#endif // PARC_RUNTIME_UNITTESTS_FAKECUDA_H
