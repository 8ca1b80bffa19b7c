//===- DriverDevice.cpp - a GPU through the NVIDIA driver and cuBLASLt ----===//
//
// One context (the device's primary context) and one non-blocking compute stream per rank.
// Kernels are the artifact's cubins, loaded with cuModuleLoadData; when the GPU is not the
// architecture they were built for, the PTX is loaded instead (the driver compiles it).
// GEMMs are cuBLASLt matmuls with f32 accumulation; their heuristic choice is cached by
// the call's shape.
//
//===----------------------------------------------------------------------===//

#include "CudaApi.h"
#include "GpuDevice.h"

#include "parc/artifact/artifact.pb.h"

#include <map>
#include <tuple>

using namespace parc::rt;

namespace {

constexpr size_t kWorkspaceBytes = 32u << 20;

class DriverDevice : public GpuDevice {
public:
  ~DriverDevice() override;
  Status open(int ordinal);

  std::string describe() const override { return description; }
  bool hostMemory() const override { return false; }
  int64_t maxGridStrideBlocks() const override { return multiprocessors * 8; }

  void *allocate(size_t bytes) override {
    cuda::DevicePointer pointer = 0;
    if (driver.memAlloc(&pointer, (bytes + 255) / 256 * 256))
      return nullptr;
    return reinterpret_cast<void *>(pointer);
  }
  void deallocate(void *pointer) override {
    driver.memFree(reinterpret_cast<cuda::DevicePointer>(pointer));
  }
  Status copyToDevice(void *device, const void *host, size_t bytes) override {
    PARC_RETURN_IF_ERROR(synchronize());
    return check(driver.memcpyHtoD(address(device), host, bytes), "cuMemcpyHtoD");
  }
  Status copyToHost(void *host, const void *device, size_t bytes) override {
    PARC_RETURN_IF_ERROR(synchronize());
    return check(driver.memcpyDtoH(host, address(device), bytes), "cuMemcpyDtoH");
  }
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
  Status checkBlas(cuda::BlasStatus status, const char *call) const {
    return status == 0 ? Status::ok()
                       : Status::error(std::string(call) + " failed with cuBLAS status " +
                                       std::to_string(status));
  }
  /// The algorithm cuBLASLt's heuristic picks for `call`'s shapes.
  Status algorithmFor(const GemmCall &call, cuda::LtMatmulDesc desc, cuda::LtMatrixLayout a,
                      cuda::LtMatrixLayout b, cuda::LtMatrixLayout d, cuda::LtAlgo &algo);

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
  cuda::GraphExec graphExec = nullptr;
  std::map<std::vector<int64_t>, cuda::LtAlgo> algorithms;
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

DriverDevice::~DriverDevice() {
  if (workspace)
    deallocate(workspace);
}

Status DriverDevice::open(int ordinal) {
  std::string error;
  if (!cuda::loadDriver(driver, error))
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
  if (!cuda::loadBlasLt(blas, error))
    return Status::error(error + " (GEMMs of CUDA artifacts run in cuBLASLt)");
  PARC_RETURN_IF_ERROR(checkBlas(blas.create(&blasHandle), "cublasLtCreate"));
  workspace = allocate(kWorkspaceBytes);
  if (!workspace)
    return Status::error(description + " is out of memory for cuBLASLt's workspace");
  return Status::ok();
}

Status DriverDevice::loadKernels(const parc::artifact::Manifest &manifest) {
  for (const parc::artifact::CudaKernel &kernel : manifest.cuda_kernels()) {
    cuda::Module module = nullptr;
    // The cubin when it matches this GPU; else the PTX, compiled by the driver.
    if (kernel.cubin().empty() || driver.moduleLoadData(&module, kernel.cubin().data())) {
      std::string ptx = kernel.ptx(); // NUL-terminated text
      if (driver.moduleLoadData(&module, ptx.c_str())) {
        std::string gpuArch =
            "sm_" + std::to_string(capabilityMajor) + std::to_string(capabilityMinor);
        return Status::error("the artifact's kernels were compiled for " +
                             manifest.cuda_arch() + ", which " + description +
                             " (compute capability " + std::to_string(capabilityMajor) + "." +
                             std::to_string(capabilityMinor) +
                             ") cannot load: compile it again with --cuda-arch=" + gpuArch);
      }
    }
    cuda::Function function = nullptr;
    PARC_RETURN_IF_ERROR(check(driver.moduleGetFunction(&function, module, kernel.name().c_str()),
                               "cuModuleGetFunction"));
    functions.push_back(function);
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

Status DriverDevice::algorithmFor(const GemmCall &call, cuda::LtMatmulDesc desc,
                                  cuda::LtMatrixLayout a, cuda::LtMatrixLayout b,
                                  cuda::LtMatrixLayout d, cuda::LtAlgo &algo) {
  std::vector<int64_t> key = {static_cast<int64_t>(call.dtype), call.m, call.n, call.k,
                              call.batch, call.transA, call.transB, call.lda, call.ldb,
                              call.ldd, call.strideA, call.strideB, call.strideD,
                              static_cast<int64_t>(call.epilogue)};
  if (auto known = algorithms.find(key); known != algorithms.end()) {
    algo = known->second;
    return Status::ok();
  }
  cuda::LtPreference preference = nullptr;
  PARC_RETURN_IF_ERROR(checkBlas(blas.preferenceCreate(&preference), "cublasLtMatmulPreferenceCreate"));
  uint64_t bytes = kWorkspaceBytes;
  blas.preferenceSetAttribute(preference, cuda::kPreferenceMaxWorkspace, &bytes, sizeof(bytes));
  cuda::LtHeuristicResult result{};
  int found = 0;
  cuda::BlasStatus status =
      blas.algoGetHeuristic(blasHandle, desc, a, b, d, d, preference, 1, &result, &found);
  blas.preferenceDestroy(preference);
  if (status || found == 0)
    return Status::error("cuBLASLt has no algorithm for a " + std::to_string(call.m) + "x" +
                         std::to_string(call.n) + "x" + std::to_string(call.k) + " GEMM");
  algo = algorithms[key] = result.algo;
  return Status::ok();
}

Status DriverDevice::gemm(const GemmCall &call) {
  int type = call.dtype == DType::F16    ? cuda::kDataF16
             : call.dtype == DType::BF16 ? cuda::kDataBF16
                                         : cuda::kDataF32;
  cuda::LtMatmulDesc desc = nullptr;
  PARC_RETURN_IF_ERROR(checkBlas(blas.matmulDescCreate(&desc, cuda::kComputeF32, cuda::kDataF32),
                                 "cublasLtMatmulDescCreate"));
  int transA = call.transA ? cuda::kOpT : cuda::kOpN, transB = call.transB ? cuda::kOpT : cuda::kOpN;
  blas.matmulDescSetAttribute(desc, cuda::kDescTransA, &transA, sizeof(transA));
  blas.matmulDescSetAttribute(desc, cuda::kDescTransB, &transB, sizeof(transB));
  uint32_t epilogue = call.epilogue == GemmEpilogue::Bias       ? cuda::kEpilogueBias
                      : call.epilogue == GemmEpilogue::BiasGelu ? cuda::kEpilogueGeluBias
                                                                : cuda::kEpilogueDefault;
  blas.matmulDescSetAttribute(desc, cuda::kDescEpilogue, &epilogue, sizeof(epilogue));
  if (call.epilogue != GemmEpilogue::None) {
    blas.matmulDescSetAttribute(desc, cuda::kDescBiasPointer, &call.bias, sizeof(call.bias));
    blas.matmulDescSetAttribute(desc, cuda::kDescBiasDataType, &type, sizeof(type));
    int64_t biasStride = 0; // one bias for every matrix of the batch
    blas.matmulDescSetAttribute(desc, cuda::kDescBiasBatchStride, &biasStride, sizeof(biasStride));
  }
  // Layouts of the stored matrices (rows x cols before op), column-major.
  auto layout = [&](int64_t rows, int64_t cols, int64_t ld, int64_t stride) {
    cuda::LtMatrixLayout l = nullptr;
    blas.matrixLayoutCreate(&l, type, rows, cols, ld);
    int32_t batch = static_cast<int32_t>(call.batch);
    blas.matrixLayoutSetAttribute(l, cuda::kLayoutBatchCount, &batch, sizeof(batch));
    blas.matrixLayoutSetAttribute(l, cuda::kLayoutStridedBatchOffset, &stride, sizeof(stride));
    return l;
  };
  cuda::LtMatrixLayout a = call.transA ? layout(call.k, call.m, call.lda, call.strideA)
                                       : layout(call.m, call.k, call.lda, call.strideA);
  cuda::LtMatrixLayout b = call.transB ? layout(call.n, call.k, call.ldb, call.strideB)
                                       : layout(call.k, call.n, call.ldb, call.strideB);
  cuda::LtMatrixLayout d = layout(call.m, call.n, call.ldd, call.strideD);
  cuda::LtAlgo algo{};
  Status status = algorithmFor(call, desc, a, b, d, algo);
  if (status) {
    float alpha = 1.0f, beta = 0.0f;
    status = checkBlas(blas.matmul(blasHandle, desc, &alpha, call.a, a, call.b, b, &beta, call.d,
                                   d, call.d, d, &algo, workspace, kWorkspaceBytes, stream),
                       "cublasLtMatmul");
  }
  blas.matrixLayoutDestroy(a);
  blas.matrixLayoutDestroy(b);
  blas.matrixLayoutDestroy(d);
  blas.matmulDescDestroy(desc);
  return status;
}

} // namespace

std::unique_ptr<GpuDevice> parc::rt::openDriverDevice(int ordinal, Status &status) {
  auto device = std::make_unique<DriverDevice>();
  status = device->open(ordinal);
  if (!status)
    return nullptr;
  return device;
}

