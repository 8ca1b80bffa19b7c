//===- DriverDeviceTest.cpp - the GPU device against a fake driver --------===//
//
// DriverDevice drives the NVIDIA driver through a table of entry points; here the table
// is a fake on host memory that records what it is asked (cuda.h's contracts: a kernel's
// parameters are an array of pointers to the argument values; grid then block dims; the
// compute stream for queued work). Checked: the device's description and limits, memory
// copies (plain, on the device, strided), the cubin with the PTX as the fallback and the
// error naming the --cuda-arch to use when neither loads, launches, event timing and
// graph capture and replay.
//
//===----------------------------------------------------------------------===//

#include "cuda/CudaApi.h"
#include "cuda/GpuDevice.h"

#include "parc/artifact/artifact.pb.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace parc::rt;

namespace {

/// What the fake driver was asked.
struct Recorded {
  std::vector<std::string> calls;
  std::vector<std::string> functions; // names given to cuModuleGetFunction
  std::string launched;
  unsigned grid[3] = {0, 0, 0}, block[3] = {0, 0, 0};
  std::vector<void *> arguments;
  cuda::Stream launchStream = nullptr;
};
Recorded recorded;
cuda::Stream const kStream = reinterpret_cast<cuda::Stream>(0x51);
int capabilityMajor = 9;

/// Images the fake loads: those starting with "good".
cuda::Result loadImage(cuda::Module *module, const void *image) {
  if (std::strncmp(static_cast<const char *>(image), "good", 4) != 0)
    return 200; // CUDA_ERROR_INVALID_IMAGE
  *module = reinterpret_cast<cuda::Module>(const_cast<void *>(image));
  return 0;
}

cuda::Driver fakeDriver() {
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
  d.memcpyHtoD = [](cuda::DevicePointer to, const void *from, size_t bytes) {
    std::memcpy(reinterpret_cast<void *>(to), from, bytes);
    return 0;
  };
  d.memcpyDtoH = [](void *to, cuda::DevicePointer from, size_t bytes) {
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
  d.getErrorString = [](cuda::Result, const char **text) {
    *text = "fake error";
    return 0;
  };
  return d;
}

cuda::BlasLt fakeBlas() {
  cuda::BlasLt blas{};
  blas.create = [](cuda::LtHandle *handle) {
    *handle = reinterpret_cast<cuda::LtHandle>(1);
    return 0;
  };
  return blas;
}

std::unique_ptr<GpuDevice> openFake(cuda::Driver &driver, cuda::BlasLt &blas) {
  Status status;
  std::unique_ptr<GpuDevice> device = openDriverDevice(0, status, &driver, &blas);
  EXPECT_TRUE(status) << status.message();
  return device;
}

void addKernel(parc::artifact::Manifest &manifest, const std::string &name,
               const std::string &cubin, const std::string &ptx) {
  parc::artifact::CudaKernel *kernel = manifest.add_cuda_kernels();
  kernel->set_name(name);
  kernel->set_cubin(cubin);
  kernel->set_ptx(ptx);
}

TEST(DriverDeviceTest, DescribesTheGpuAndCopiesMemory) {
  recorded = Recorded{};
  cuda::Driver driver = fakeDriver();
  cuda::BlasLt blas = fakeBlas();
  std::unique_ptr<GpuDevice> device = openFake(driver, blas);
  ASSERT_TRUE(device);
  EXPECT_EQ(device->describe(), "Fake GPU (device 0)");
  EXPECT_EQ(device->maxGridStrideBlocks(), 32); // 8 per multiprocessor
  EXPECT_FALSE(device->hostMemory());
  EXPECT_EQ(recorded.calls.front(), "streamCreate 1"); // non-blocking

  std::vector<int> host = {1, 2, 3, 4, 5, 6}, back(6, 0);
  void *a = device->allocate(24), *b = device->allocate(24);
  ASSERT_TRUE(device->copyToDevice(a, host.data(), 24));
  ASSERT_TRUE(device->copyOnDevice(b, a, 24));
  ASSERT_TRUE(device->copyToHost(back.data(), b, 24));
  EXPECT_EQ(back, host);
  // Three rows of one int, 2 ints apart, packed.
  ASSERT_TRUE(device->copyRowsOnDevice(b, 4, a, 8, 4, 3));
  ASSERT_TRUE(device->copyToHost(back.data(), b, 12));
  EXPECT_EQ(std::vector<int>(back.begin(), back.begin() + 3), (std::vector<int>{1, 3, 5}));
  device->deallocate(a);
  device->deallocate(b);
}

TEST(DriverDeviceTest, LoadsCubinsOrPtxAndLaunchesWithArgumentPointers) {
  recorded = Recorded{};
  cuda::Driver driver = fakeDriver();
  cuda::BlasLt blas = fakeBlas();
  std::unique_ptr<GpuDevice> device = openFake(driver, blas);
  parc::artifact::Manifest manifest;
  manifest.set_cuda_arch("sm_90");
  addKernel(manifest, "parc_kernel_0", "good cubin", "good ptx");
  addKernel(manifest, "parc_kernel_1", "bad cubin", "good ptx"); // falls back to the PTX
  Status loaded = device->loadKernels(manifest);
  ASSERT_TRUE(loaded) << loaded.message();
  EXPECT_EQ(recorded.functions, (std::vector<std::string>{"parc_kernel_0", "parc_kernel_1"}));

  int x = 0, y = 0;
  Status launched = device->launch(1, LaunchShape{7, 64}, {&x, &y});
  ASSERT_TRUE(launched) << launched.message();
  EXPECT_EQ(recorded.launched, "parc_kernel_1");
  EXPECT_EQ(recorded.grid[0], 7u);
  EXPECT_EQ(recorded.grid[1], 1u);
  EXPECT_EQ(recorded.block[0], 64u);
  EXPECT_EQ(recorded.block[1], 1u);
  EXPECT_EQ(recorded.launchStream, kStream);
  EXPECT_EQ(recorded.arguments, (std::vector<void *>{&x, &y}));
  EXPECT_FALSE(device->launch(2, LaunchShape{1, 32}, {&x, &y}));
}

TEST(DriverDeviceTest, WhenNoImageLoadsTheErrorNamesTheArch) {
  recorded = Recorded{};
  capabilityMajor = 8;
  cuda::Driver driver = fakeDriver();
  cuda::BlasLt blas = fakeBlas();
  std::unique_ptr<GpuDevice> device = openFake(driver, blas);
  parc::artifact::Manifest manifest;
  manifest.set_cuda_arch("sm_90");
  addKernel(manifest, "parc_kernel_0", "bad cubin", "bad ptx");
  Status loaded = device->loadKernels(manifest);
  capabilityMajor = 9;
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.message(),
            "the artifact's kernels were compiled for sm_90, which Fake GPU (device 0) "
            "(compute capability 8.0) cannot load: compile it again with --cuda-arch=sm_80");
}

TEST(DriverDeviceTest, TimesInstructionsAndCapturesGraphs) {
  recorded = Recorded{};
  cuda::Driver driver = fakeDriver();
  cuda::BlasLt blas = fakeBlas();
  std::unique_ptr<GpuDevice> device = openFake(driver, blas);
  ASSERT_TRUE(device->timesOnDevice());
  ASSERT_TRUE(device->markInstruction(0, false));
  ASSERT_TRUE(device->markInstruction(0, true));
  ASSERT_TRUE(device->markInstruction(1, false));
  ASSERT_TRUE(device->markInstruction(1, true));
  std::vector<double> ms(2, 1.0);
  ASSERT_TRUE(device->addInstructionMilliseconds(ms));
  EXPECT_EQ(ms, (std::vector<double>{2.5, 2.5}));

  EXPECT_FALSE(device->replay()); // nothing captured yet
  recorded.calls.clear();
  ASSERT_TRUE(device->beginCapture());
  ASSERT_TRUE(device->endCapture());
  ASSERT_TRUE(device->replay());
  ASSERT_TRUE(device->replay());
  EXPECT_EQ(recorded.calls, (std::vector<std::string>{"beginCapture 1", "endCapture",
                                                      "instantiate", "graphLaunch",
                                                      "graphLaunch"}));
}

} // namespace
