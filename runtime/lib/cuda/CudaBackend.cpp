//===- CudaBackend.cpp - the CUDA backend ---------------------------------===//

#include "CudaBackend.h"

#include "GemmPlan.h"

#include "parc/Runtime/Communicator.h"

#include "parc/artifact/artifact.pb.h"

namespace pa = parc::artifact;
using namespace parc::rt;

namespace {

class CudaBackend : public Backend {
public:
  CudaBackend(const pa::Manifest &manifest, std::unique_ptr<GpuDevice> device,
              std::unique_ptr<DeviceCollectives> collectives)
      : manifest(manifest), device(std::move(device)), collectives(std::move(collectives)) {}

  const char *name() const override { return "cuda"; }
  bool hostAddressable() const override { return device->hostMemory(); }
  void *allocate(size_t bytes) override { return device->allocate(bytes); }
  void deallocate(void *pointer) override { device->deallocate(pointer); }
  Status upload(void *to, const void *from, size_t bytes) override {
    return device->copyToDevice(to, from, bytes);
  }
  Status download(void *to, const void *from, size_t bytes) override {
    return device->copyToHost(to, from, bytes);
  }
  Status finishRun() override { return device->synchronize(); }
  std::string describe() const override { return device->describe(); }
  Status checkCapturable() const override {
    return stagesThroughHost ? Status::error("its collectives are staged through host memory")
                             : Status::ok();
  }
  Status beginCapture() override { return device->beginCapture(); }
  Status endCapture() override { return device->endCapture(); }
  Status replay() override { return device->replay(); }
  bool timesOnDevice() const override { return device->timesOnDevice(); }
  Status markInstruction(size_t index, bool end) override {
    return device->markInstruction(index, end);
  }
  Status addInstructionMilliseconds(std::vector<double> &ms) override {
    return device->addInstructionMilliseconds(ms);
  }

  Status bind(const pa::Instruction &inst, const std::vector<TensorRef> &in,
              const std::vector<TensorRef> &out, const CommunicatorGroups &groups,
              BoundKernel &kernel) override;

private:
  Status bindLaunch(int index, const std::vector<TensorRef> &in,
                    const std::vector<TensorRef> &out, BoundKernel &kernel);
  Status bindGemm(const TensorRef &lhs, const TensorRef &rhs, const TensorRef &out,
                  GemmEpilogue epilogue, const TensorRef *bias, BoundKernel &kernel);
  Status bindStagedCollective(const std::string &op, Communicator *comm, int64_t axis,
                              const TensorRef &in, const TensorRef &out, BoundKernel &kernel);

  const pa::Manifest &manifest;
  std::unique_ptr<GpuDevice> device;
  std::unique_ptr<DeviceCollectives> collectives;
  /// Some instruction copies through host memory: runs cannot be captured in a graph.
  bool stagesThroughHost = false;
};

Status CudaBackend::bindLaunch(int index, const std::vector<TensorRef> &in,
                               const std::vector<TensorRef> &out, BoundKernel &kernel) {
  if (index < 0 || index >= manifest.cuda_kernels_size())
    return Status::error("names kernel " + std::to_string(index) + ", but the artifact has " +
                         std::to_string(manifest.cuda_kernels_size()));
  // One pointer per input, then per output (KernelEmitter.h).
  std::vector<void *> args;
  for (const TensorRef &tensor : in)
    args.push_back(tensor.data);
  for (const TensorRef &tensor : out)
    args.push_back(tensor.data);
  LaunchShape shape =
      launchShapeOf(manifest.cuda_kernels(index), device->maxGridStrideBlocks(index));
  GpuDevice *gpu = device.get();
  kernel = [gpu, index, shape, args]() { return gpu->launch(index, shape, args); };
  return Status::ok();
}

Status CudaBackend::bindGemm(const TensorRef &lhs, const TensorRef &rhs, const TensorRef &out,
                             GemmEpilogue epilogue, const TensorRef *bias,
                             BoundKernel &kernel) {
  GemmCall call;
  PARC_RETURN_IF_ERROR(planMatmul(lhs, rhs, out, epilogue, bias, call));
  GpuDevice *gpu = device.get();
  kernel = [gpu, call]() { return gpu->gemm(call); };
  return Status::ok();
}

/// Communication for ranks that share a GPU (NCCL refuses two ranks on one device): the
/// operand is copied to host memory, the Gloo collective runs there, and the result is
/// copied back. Correct but slower than NCCL; parc-run says when it does this.
Status CudaBackend::bindStagedCollective(const std::string &op, Communicator *comm,
                                         int64_t axis, const TensorRef &in,
                                         const TensorRef &out, BoundKernel &kernel) {
  stagesThroughHost = true;
  auto hostIn = std::make_shared<std::vector<char>>(in.bytes());
  auto hostOut = std::make_shared<std::vector<char>>(out.bytes());
  GpuDevice *gpu = device.get();
  kernel = [=]() {
    PARC_RETURN_IF_ERROR(gpu->copyToHost(hostIn->data(), in.data, in.bytes()));
    TensorRef from{hostIn->data(), in.dtype, in.shape};
    TensorRef to{hostOut->data(), out.dtype, out.shape};
    if (op == "all_reduce") {
      PARC_RETURN_IF_ERROR(comm->allReduceSum(from));
      return gpu->copyToDevice(out.data, from.data, out.bytes());
    }
    if (op == "all_gather")
      PARC_RETURN_IF_ERROR(comm->allGather(from, axis, to));
    else
      PARC_RETURN_IF_ERROR(comm->reduceScatterSum(from, axis, to));
    return gpu->copyToDevice(out.data, to.data, out.bytes());
  };
  return Status::ok();
}

Status CudaBackend::bind(const pa::Instruction &inst, const std::vector<TensorRef> &in,
                         const std::vector<TensorRef> &out, const CommunicatorGroups &groups,
                         BoundKernel &kernel) {
  const std::string &op = inst.op();
  if (op == "fused" && inst.kernel().kind() == "gemm") {
    // Operands: the matmul's two, then the bias (parc-fuse's order).
    const std::string &epilogue = inst.kernel().epilogue();
    if (in.size() != 3 || out.size() != 1 || (epilogue != "bias" && epilogue != "bias_gelu"))
      return Status::error("a GEMM region expects (lhs, rhs, bias), one result and a bias "
                           "or bias_gelu epilogue");
    return bindGemm(in[0], in[1], out[0],
                    epilogue == "bias" ? GemmEpilogue::Bias : GemmEpilogue::BiasGelu, &in[2],
                    kernel);
  }
  if (inst.has_kernel())
    return bindLaunch(inst.kernel().kernel(), in, out, kernel);
  if (op == "matmul") {
    if (in.size() != 2 || out.size() != 1)
      return Status::error("expects 2 operands and 1 result");
    return bindGemm(in[0], in[1], out[0], GemmEpilogue::None, nullptr, kernel);
  }
  if (op == "reshape" || op == "assign_weight") {
    // A copy: reshape's input to its result; assign_weight's value into the weight.
    if (in.empty() || in.size() + out.size() != 2)
      return Status::error("expects one tensor to copy");
    TensorRef from = op == "reshape" ? in[0] : in[1];
    TensorRef to = op == "reshape" ? out[0] : in[0];
    GpuDevice *gpu = device.get();
    kernel = [gpu, from, to]() {
      return from.data == to.data ? Status::ok()
                                  : gpu->copyOnDevice(to.data, from.data, to.bytes());
    };
    return Status::ok();
  }
  if (op == "all_reduce" || op == "all_gather" || op == "reduce_scatter") {
    if (in.size() != 1 || out.size() != 1)
      return Status::error("expects 1 operand and 1 result");
    const std::string &group = inst.collective().group();
    int64_t axis = inst.collective().axis();
    if (collectives)
      return collectives->bind(op, group, axis, in[0], out[0], kernel);
    auto it = groups.find(group);
    if (it == groups.end() || !it->second)
      return Status::error("no communicator for group '" + group + "'");
    return bindStagedCollective(op, it->second, axis, in[0], out[0], kernel);
  }
  return Status::error("the cuda backend has no kernel for '" + op +
                       "' (the artifact names no generated kernel for it)");
}

} // namespace

std::set<std::string> parc::rt::collectiveGroupsOf(const pa::Manifest &manifest, int rank) {
  std::set<std::string> names;
  for (const pa::Instruction &inst : manifest.programs(rank).instructions())
    if (inst.has_collective())
      names.insert(inst.collective().group());
  return names;
}

std::unique_ptr<Backend> parc::rt::createCudaBackend(
    const pa::Manifest &manifest, std::unique_ptr<GpuDevice> device,
    std::unique_ptr<DeviceCollectives> collectives, Status &status) {
  status = device->loadKernels(manifest);
  if (!status)
    return nullptr;
  return std::make_unique<CudaBackend>(manifest, std::move(device), std::move(collectives));
}
