//===- DriverDevice.cpp - a GPU through the NVIDIA driver and cuBLASLt ----===//
//
// One context (the device's primary context) and one non-blocking compute stream per rank.
// Kernels are the artifact's cubins, loaded with cuModuleLoadData; when the GPU is not the
// architecture they were built for, the PTX is loaded instead (the driver compiles it); when
// neither loads, the error gives both of the driver's results and its CUDA version.
// GEMMs are cuBLASLt matmuls with f32 accumulation; their heuristic choice is cached by
// the call's shape.
//
//===----------------------------------------------------------------------===//

#include "CudaApi.h"
#include "GpuDevice.h"
#include "LtGemm.h"

#include "parc/artifact/artifact.pb.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>

using namespace parc::rt;

namespace {

constexpr size_t kWorkspaceBytes = 32u << 20;
constexpr size_t kStagingBytes = 8u << 20;

class DriverDevice : public GpuDevice {
public:
  ~DriverDevice() override;
  /// Opens GPU `ordinal` through `driverTable` and `blasTable`, or the libraries
  /// loaded with dlopen where they are null.
  Status open(int ordinal, const cuda::Driver *driverTable, const cuda::BlasLt *blasTable);

  std::string describe() const override { return description; }
  bool hostMemory() const override { return false; }
  int64_t maxGridStrideBlocks(int kernel) const override {
    return kernel >= 0 && kernel < static_cast<int>(fullWave.size()) ? fullWave[kernel]
                                                                      : multiprocessors;
  }

  void *allocate(size_t bytes) override {
    cuda::DevicePointer pointer = 0;
    if (driver.memAlloc(&pointer, (bytes + 255) / 256 * 256))
      return nullptr;
    return reinterpret_cast<void *>(pointer);
  }
  void deallocate(void *pointer) override {
    driver.memFree(reinterpret_cast<cuda::DevicePointer>(pointer));
  }
  Status copyToDevice(void *device, const void *host, size_t bytes) override;
  Status copyToHost(void *host, const void *device, size_t bytes) override;
  Status copyOnDevice(void *to, const void *from, size_t bytes) override {
    return check(driver.memcpyDtoDAsync(address(to), address(from), bytes, stream),
                 "cuMemcpyDtoDAsync");
  }
  Status copyRowsOnDevice(void *to, size_t toPitch, const void *from, size_t fromPitch,
                          size_t width, size_t rows) override {
    cuda::Memcpy2D copy{};
    copy.srcMemoryType = copy.dstMemoryType = cuda::kMemoryTypeDevice;
    copy.srcDevice = address(from);
    copy.srcPitch = fromPitch;
    copy.dstDevice = address(to);
    copy.dstPitch = toPitch;
    copy.WidthInBytes = width;
    copy.Height = rows;
    return check(driver.memcpy2DAsync(&copy, stream), "cuMemcpy2DAsync");
  }
  Status loadKernels(const parc::artifact::Manifest &manifest) override;
  Status launch(int kernel, LaunchShape shape, const std::vector<void *> &args) override;
  Status gemm(const GemmCall &call) override;
  Status synchronize() override {
    return check(driver.streamSynchronize(stream), "cuStreamSynchronize");
  }

  Status beginCapture() override {
    return check(driver.streamBeginCapture(stream, cuda::kCaptureModeThreadLocal),
                 "cuStreamBeginCapture");
  }
  Status endCapture() override {
    cuda::Graph graph = nullptr;
    PARC_RETURN_IF_ERROR(check(driver.streamEndCapture(stream, &graph), "cuStreamEndCapture"));
    return check(driver.graphInstantiate(&graphExec, graph, 0), "cuGraphInstantiate");
  }
  Status replay() override {
    if (!graphExec)
      return Status::error("no CUDA graph was captured");
    return check(driver.graphLaunch(graphExec, stream), "cuGraphLaunch");
  }

  bool timesOnDevice() const override { return true; }
  Status markInstruction(size_t index, bool end) override;
  Status addInstructionMilliseconds(std::vector<double> &ms) override;

  const cuda::Driver *driverApi() const override { return &driver; }
  cuda::Stream computeStream() const override { return stream; }

private:
  static cuda::DevicePointer address(const void *pointer) {
    return reinterpret_cast<cuda::DevicePointer>(pointer);
  }
  Status check(cuda::Result result, const char *call) const {
    if (result == 0)
      return Status::ok();
    const char *text = nullptr;
    driver.getErrorString(result, &text);
    return Status::error(std::string(call) + " failed on " + description + ": " +
                         (text ? text : "CUDA error " + std::to_string(result)));
  }
  /// "text (CUDA error N)" of a driver result.
  std::string describeResult(cuda::Result result) const;
  /// Why the artifact's kernels do not load here: both load errors, the GPU's and the
  /// driver's versions, and what to do.
  Status describeLoadFailure(const parc::artifact::Manifest &manifest, cuda::Result cubinResult,
                             cuda::Result ptxResult) const;
  Status checkBlas(cuda::BlasStatus status, const char *call) const {
    return status == 0 ? Status::ok()
                       : Status::error(std::string(call) + " failed with cuBLAS status " +
                                       std::to_string(status));
  }
  cuda::Driver driver{};
  cuda::BlasLt blas{};
  cuda::Context context = nullptr;
  cuda::Stream stream = nullptr;
  cuda::LtHandle blasHandle = nullptr;
  void *workspace = nullptr;
  int multiprocessors = 1;
  int capabilityMajor = 0, capabilityMinor = 0;
  std::string description;
  std::vector<cuda::Function> functions;
  /// Per kernel: the blocks that fit on the GPU at once at its block size
  /// (cuOccupancyMaxActiveBlocksPerMultiprocessor times the multiprocessors). A fixed 8 per
  /// multiprocessor made a second, partial wave of kernels whose registers fit 6.
  std::vector<int64_t> fullWave;
  cuda::GraphExec graphExec = nullptr;
  std::unique_ptr<LtGemm> lt;
  /// Pinned host memory that copies to and from the host go through, kStagingBytes at a
  /// time (null when the driver has none to give: then they copy from pageable memory,
  /// still on the compute stream).
  void *staging = nullptr;
  /// Start and end events of each instruction (--profile), made on first use.
  std::vector<std::pair<cuda::Event, cuda::Event>> instructionEvents;
};

Status DriverDevice::markInstruction(size_t index, bool end) {
  if (index >= instructionEvents.size())
    instructionEvents.resize(index + 1, {nullptr, nullptr});
  cuda::Event &event = end ? instructionEvents[index].second : instructionEvents[index].first;
  if (!event)
    PARC_RETURN_IF_ERROR(check(driver.eventCreate(&event, 0), "cuEventCreate"));
  return check(driver.eventRecord(event, stream), "cuEventRecord");
}

Status DriverDevice::addInstructionMilliseconds(std::vector<double> &ms) {
  PARC_RETURN_IF_ERROR(synchronize());
  for (size_t i = 0; i < instructionEvents.size() && i < ms.size(); ++i) {
    auto [start, end] = instructionEvents[i];
    float elapsed = 0;
    if (start && end)
      PARC_RETURN_IF_ERROR(check(driver.eventElapsedTime(&elapsed, start, end), "cuEventElapsedTime"));
    ms[i] += elapsed;
  }
  return Status::ok();
}

Status DriverDevice::describeLoadFailure(const parc::artifact::Manifest &manifest,
                                         cuda::Result cubinResult,
                                         cuda::Result ptxResult) const {
  std::string gpuArch = "sm_" + std::to_string(capabilityMajor) + std::to_string(capabilityMinor);
  int version = 0;
  std::string driverVersion = "unknown";
  if (driver.driverGetVersion && driver.driverGetVersion(&version) == 0)
    driverVersion = std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
  std::string message = "the artifact's kernels, compiled for " + manifest.cuda_arch() +
                        ", do not load on " + description + " (compute capability " +
                        std::to_string(capabilityMajor) + "." +
                        std::to_string(capabilityMinor) + ", driver for CUDA " +
                        driverVersion + "): ";
  if (cubinResult)
    message += "cubin: " + describeResult(cubinResult) + "; ";
  message += "PTX: " + describeResult(ptxResult) + "; ";
  // A GPU of another architecture needs other kernels; one of the same needs a driver that
  // reads what the toolkit wrote (NVRTC 13's PTX needs a CUDA 13 driver).
  if (gpuArch != manifest.cuda_arch())
    message += "compile it again with --cuda-arch=" + gpuArch;
  else
    message += "the driver is older than the CUDA toolkit that compiled them: update the "
               "NVIDIA driver, or compile with a toolkit no newer than the driver";
  return Status::error(message);
}

// Copies to and from the host are queued on the compute stream, behind the kernels that
// use or make the data, and waited for before they return. The legacy stream's
// cuMemcpyHtoD from pageable memory returns once the bytes are staged, not copied, and is
// not ordered with the non-blocking compute stream: a weight, an input or a host-staged
// transfer could race the next kernel (issue 21, E).
Status DriverDevice::copyToDevice(void *device, const void *host, size_t bytes) {
  for (size_t done = 0; done < bytes;) {
    size_t chunk = staging ? std::min(bytes - done, kStagingBytes) : bytes - done;
    const void *from = static_cast<const char *>(host) + done;
    if (staging) {
      std::memcpy(staging, from, chunk);
      from = staging;
    }
    PARC_RETURN_IF_ERROR(check(driver.memcpyHtoDAsync(address(device) + done, from, chunk,
                                                      stream),
                               "cuMemcpyHtoDAsync"));
    PARC_RETURN_IF_ERROR(synchronize()); // the staging buffer is free again
    done += chunk;
  }
  return Status::ok();
}

Status DriverDevice::copyToHost(void *host, const void *device, size_t bytes) {
  for (size_t done = 0; done < bytes;) {
    size_t chunk = staging ? std::min(bytes - done, kStagingBytes) : bytes - done;
    void *to = staging ? staging : static_cast<char *>(host) + done;
    PARC_RETURN_IF_ERROR(check(driver.memcpyDtoHAsync(to, address(device) + done, chunk,
                                                      stream),
                               "cuMemcpyDtoHAsync"));
    PARC_RETURN_IF_ERROR(synchronize());
    if (staging)
      std::memcpy(static_cast<char *>(host) + done, staging, chunk);
    done += chunk;
  }
  return Status::ok();
}

DriverDevice::~DriverDevice() {
  if (workspace)
    deallocate(workspace);
  if (staging)
    driver.memFreeHost(staging);
}

Status DriverDevice::open(int ordinal, const cuda::Driver *driverTable,
                          const cuda::BlasLt *blasTable) {
  std::string error;
  if (driverTable)
    driver = *driverTable;
  else if (!cuda::loadDriver(driver, error))
    return Status::error("no GPU was found: " + error);
  if (driver.init(0))
    return Status::error("no GPU was found: cuInit failed");
  cuda::Device device = 0;
  PARC_RETURN_IF_ERROR(check(driver.deviceGet(&device, ordinal), "cuDeviceGet"));
  char name[256] = {0};
  driver.deviceGetName(name, sizeof(name) - 1, device);
  description = std::string(name) + " (device " + std::to_string(ordinal) + ")";
  driver.deviceGetAttribute(&multiprocessors, cuda::kAttributeMultiprocessorCount, device);
  driver.deviceGetAttribute(&capabilityMajor, cuda::kAttributeComputeCapabilityMajor, device);
  driver.deviceGetAttribute(&capabilityMinor, cuda::kAttributeComputeCapabilityMinor, device);
  PARC_RETURN_IF_ERROR(check(driver.primaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain"));
  PARC_RETURN_IF_ERROR(check(driver.ctxSetCurrent(context), "cuCtxSetCurrent"));
  PARC_RETURN_IF_ERROR(check(driver.streamCreate(&stream, cuda::kStreamNonBlocking), "cuStreamCreate"));
  if (blasTable)
    blas = *blasTable;
  else if (!cuda::loadBlasLt(blas, error))
    return Status::error(error + " (GEMMs of CUDA artifacts run in cuBLASLt)");
  PARC_RETURN_IF_ERROR(checkBlas(blas.create(&blasHandle), "cublasLtCreate"));
  workspace = allocate(kWorkspaceBytes);
  if (!workspace)
    return Status::error(description + " is out of memory for cuBLASLt's workspace");
  lt = std::make_unique<LtGemm>(blas, blasHandle, workspace, kWorkspaceBytes);
  if (driver.memHostAlloc(&staging, kStagingBytes, 0) != 0)
    staging = nullptr;
  return Status::ok();
}

std::string DriverDevice::describeResult(cuda::Result result) const {
  const char *text = nullptr;
  if (driver.getErrorString(result, &text) != 0 || !text)
    text = "unknown error";
  return std::string(text) + " (CUDA error " + std::to_string(result) + ")";
}

Status DriverDevice::loadKernels(const parc::artifact::Manifest &manifest) {
  for (const parc::artifact::CudaKernel &kernel : manifest.cuda_kernels()) {
    cuda::Module module = nullptr;
    // The cubin when it matches this GPU; else the PTX, compiled by the driver.
    cuda::Result cubinResult = kernel.cubin().empty()
                                   ? 0
                                   : driver.moduleLoadData(&module, kernel.cubin().data());
    if (kernel.cubin().empty() || cubinResult) {
      std::string ptx = kernel.ptx(); // NUL-terminated text
      if (cuda::Result ptxResult = driver.moduleLoadData(&module, ptx.c_str()))
        return describeLoadFailure(manifest, cubinResult, ptxResult);
    }
    cuda::Function function = nullptr;
    PARC_RETURN_IF_ERROR(check(driver.moduleGetFunction(&function, module, kernel.name().c_str()),
                               "cuModuleGetFunction"));
    functions.push_back(function);
    int perMultiprocessor = 0;
    int blockSize = kernel.block_size() > 0 ? kernel.block_size() : 256;
    PARC_RETURN_IF_ERROR(check(driver.occupancyMaxActiveBlocksPerMultiprocessor(
                                   &perMultiprocessor, function, blockSize, 0),
                               "cuOccupancyMaxActiveBlocksPerMultiprocessor"));
    fullWave.push_back(static_cast<int64_t>(std::max(1, perMultiprocessor)) * multiprocessors);
  }
  return Status::ok();
}

Status DriverDevice::launch(int kernel, LaunchShape shape, const std::vector<void *> &args) {
  if (kernel < 0 || kernel >= static_cast<int>(functions.size()))
    return Status::error("no kernel " + std::to_string(kernel) + " in the artifact");
  // cuLaunchKernel takes the address of each argument.
  std::vector<void *> values = args;
  std::vector<void *> params;
  for (void *&value : values)
    params.push_back(&value);
  return check(driver.launchKernel(functions[kernel], static_cast<unsigned>(shape.blocks), 1, 1,
                                   static_cast<unsigned>(shape.threads), 1, 1, 0, stream,
                                   params.data(), nullptr),
               "cuLaunchKernel");
}

Status DriverDevice::gemm(const GemmCall &call) { return lt->run(call, stream); }

} // namespace

std::unique_ptr<GpuDevice> parc::rt::openDriverDevice(int ordinal, Status &status,
                                                      const cuda::Driver *driver,
                                                      const cuda::BlasLt *blas) {
  auto device = std::make_unique<DriverDevice>();
  status = device->open(ordinal, driver, blas);
  if (!status)
    return nullptr;
  return device;
}

