//===- DriverDeviceTest.cpp - the GPU device against a fake driver --------===//
//
// DriverDevice drives the NVIDIA driver through a table of entry points; here the table
// is a fake on host memory that records what it is asked (cuda.h's contracts: a kernel's
// parameters are an array of pointers to the argument values; grid then block dims; the
// compute stream for queued work). Checked: the device's description and limits, memory
// copies (plain, on the device, strided), the cubin with the PTX as the fallback and the
// error naming the --cuda-arch to use when neither loads, launches, event timing and
// graph capture and replay. The fake is FakeCuda.h.
//
//===----------------------------------------------------------------------===//

#include "FakeCuda.h"
#include "cuda/GpuDevice.h"

#include "parc/artifact/artifact.pb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

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
  // Issue 21 (E): copies to and from the host are queued on the compute stream (ordered
  // with its kernels) from pinned staging memory, never the legacy stream's pageable copy.
  for (const std::string &call : recorded.calls)
    if (call.find("toD") != std::string::npos || call.find("toH") != std::string::npos)
      EXPECT_TRUE(call == "HtoDAsync compute pinned" || call == "DtoHAsync compute pinned")
          << call;
  EXPECT_NE(std::find(recorded.calls.begin(), recorded.calls.end(), "HtoDAsync compute pinned"),
            recorded.calls.end());
}

TEST(DriverDeviceTest, CopiesLargerThanTheStagingBufferGoInPieces) {
  recorded = Recorded{};
  cuda::Driver driver = fakeDriver();
  cuda::BlasLt blas = fakeBlas();
  std::unique_ptr<GpuDevice> device = openFake(driver, blas);
  ASSERT_TRUE(device);
  // 20 MB through an 8 MB staging buffer: three pieces each way, every byte in place.
  std::vector<int> host(5 << 20), back(5 << 20, 0);
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = static_cast<int>(i * 2654435761u);
  void *buffer = device->allocate(host.size() * sizeof(int));
  ASSERT_TRUE(device->copyToDevice(buffer, host.data(), host.size() * sizeof(int)));
  ASSERT_TRUE(device->copyToHost(back.data(), buffer, back.size() * sizeof(int)));
  EXPECT_EQ(back, host);
  EXPECT_EQ(std::count(recorded.calls.begin(), recorded.calls.end(), "HtoDAsync compute pinned"),
            3);
  EXPECT_EQ(std::count(recorded.calls.begin(), recorded.calls.end(), "DtoHAsync compute pinned"),
            3);
  device->deallocate(buffer);
}

// Issue 21 (I): a grid-stride kernel's grid is the blocks that fit at once at its block
// size (the fake's occupancy: 6 of 256 threads, 8 of 128, on 4 multiprocessors), not a
// fixed 8 per multiprocessor, which made a second, partial wave.
TEST(DriverDeviceTest, GridsAreOneWaveByOccupancy) {
  recorded = Recorded{};
  cuda::Driver driver = fakeDriver();
  cuda::BlasLt blas = fakeBlas();
  std::unique_ptr<GpuDevice> device = openFake(driver, blas);
  parc::artifact::Manifest manifest;
  addKernel(manifest, "parc_kernel_0", "good cubin", "good ptx");
  addKernel(manifest, "parc_kernel_1", "good cubin", "good ptx");
  manifest.mutable_cuda_kernels(0)->set_block_size(256);
  manifest.mutable_cuda_kernels(1)->set_block_size(128);
  ASSERT_TRUE(device->loadKernels(manifest));
  EXPECT_EQ(device->maxGridStrideBlocks(0), 24);
  EXPECT_EQ(device->maxGridStrideBlocks(1), 32);
  // A grid-stride kernel over 10^6 elements at 256 threads is one wave of 24 blocks.
  manifest.mutable_cuda_kernels(0)->set_elements(1000000);
  EXPECT_EQ(launchShapeOf(manifest.cuda_kernels(0), device->maxGridStrideBlocks(0)).blocks, 24);
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
            "the artifact's kernels, compiled for sm_90, do not load on Fake GPU (device 0) "
            "(compute capability 8.0, driver for CUDA 13.0): cubin: device kernel image is "
            "invalid (CUDA error 200); PTX: device kernel image is invalid (CUDA error 200); "
            "compile it again with --cuda-arch=sm_80");
}

// Issue 21 (D): on a GPU of the kernels' own architecture, a driver older than the toolkit
// rejects the cubin and the PTX; that used to say "compile again with --cuda-arch=sm_90",
// the architecture they already have, and drop the driver's errors.
TEST(DriverDeviceTest, AnOldDriverIsNamedWithItsErrors) {
  recorded = Recorded{};
  driverVersion = 12040;
  cuda::Driver driver = fakeDriver();
  cuda::BlasLt blas = fakeBlas();
  std::unique_ptr<GpuDevice> device = openFake(driver, blas);
  parc::artifact::Manifest manifest;
  manifest.set_cuda_arch("sm_90");
  addKernel(manifest, "parc_kernel_0", "bad cubin", "new ptx");
  Status loaded = device->loadKernels(manifest);
  driverVersion = 13000;
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.message(),
            "the artifact's kernels, compiled for sm_90, do not load on Fake GPU (device 0) "
            "(compute capability 9.0, driver for CUDA 12.4): cubin: device kernel image is "
            "invalid (CUDA error 200); PTX: the provided PTX was compiled with an unsupported "
            "toolchain. (CUDA error 222); the driver is older than the CUDA toolkit that "
            "compiled them: update the NVIDIA driver, or compile with a toolkit no newer than "
            "the driver");
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
