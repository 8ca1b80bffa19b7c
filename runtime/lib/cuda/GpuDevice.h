//===- GpuDevice.h - what the CUDA backend asks of a GPU --------*- C++ -*-===//
//
// The CUDA backend (CudaBackend.cpp) turns each instruction into calls on a GpuDevice:
// memory, copies, launches of the artifact's generated kernels and cuBLASLt-style GEMMs.
// Two devices implement it:
//
//  * the NVIDIA driver (DriverDevice.cpp): libcuda.so.1 and libcublasLt loaded with
//    dlopen, one compute stream, the artifact's cubins (PTX as the fallback);
//  * the emulator (EmulatedDevice.cpp, selected with PARC_CUDA_EMULATOR=1, for testing
//    without a GPU): host memory, the kernels' CUDA C++ compiled for the host, each thread
//    block run as fibers so __syncthreads and warp shuffles keep their meaning, and the
//    GEMM call executed by its column-major definition. It proves everything above the
//    driver calls: which kernel runs with which pointers and launch shape, the GEMM
//    plans with their epilogues, device memory and host staging of communication.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CUDA_GPUDEVICE_H
#define PARC_RUNTIME_LIB_CUDA_GPUDEVICE_H

#include "parc/Runtime/DType.h"
#include "parc/Runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace parc::artifact {
class Manifest;
class CudaKernel;
} // namespace parc::artifact

namespace parc::rt {

namespace cuda {
struct Driver;
struct BlasLt;
using Stream = struct OpaqueStream *;
} // namespace cuda

/// A kernel launch: blocks of threads (one dimension each; the generated kernels use x).
struct LaunchShape {
  int64_t blocks = 1;
  int64_t threads = 256;
};

/// The launch shape of a generated kernel: a row kernel has one block per row; a
/// grid-stride kernel as many blocks as cover its work, at most `maxBlocks` (the loop
/// strides over the rest).
LaunchShape launchShapeOf(const parc::artifact::CudaKernel &kernel, int64_t maxBlocks);

/// What cuBLASLt adds to a product before storing it.
enum class GemmEpilogue { None, Bias, BiasGelu };

/// One strided-batched GEMM in cuBLAS's column-major terms:
///   D[b] = epilogue(op(A[b]) * op(B[b]))  for b < batch,
/// with op(X) = X or X^T, A m x k, B k x n, D m x n after op, leading dims ld*, batch
/// strides stride* in elements (0: one matrix shared by the batch). The bias has m
/// elements, added to every column (cuBLASLt's bias epilogue); GELU is the tanh form.
/// Every matrix has element type `dtype`; products accumulate in f32.
struct GemmCall {
  DType dtype = DType::F32;
  int64_t m = 0, n = 0, k = 0, batch = 1;
  bool transA = false, transB = false;
  const void *a = nullptr, *b = nullptr, *bias = nullptr;
  void *d = nullptr;
  int64_t lda = 0, ldb = 0, ldd = 0;
  int64_t strideA = 0, strideB = 0, strideD = 0;
  GemmEpilogue epilogue = GemmEpilogue::None;
};

class GpuDevice {
public:
  virtual ~GpuDevice() = default;
  /// "NVIDIA H100 80GB HBM3 (device 0)", or what the emulator runs on.
  virtual std::string describe() const = 0;
  /// True when device memory is host memory (the emulator).
  virtual bool hostMemory() const = 0;
  /// The most blocks grid-stride kernel `kernel` (after loadKernels) is launched with: as
  /// many as fit on the GPU at once, so that the grid is one full wave.
  virtual int64_t maxGridStrideBlocks(int kernel) const = 0;

  /// Device memory, 256-byte aligned; null when out of memory.
  virtual void *allocate(size_t bytes) = 0;
  virtual void deallocate(void *pointer) = 0;
  /// Copies that finish before they return (the compute stream is drained first).
  virtual Status copyToDevice(void *device, const void *host, size_t bytes) = 0;
  virtual Status copyToHost(void *host, const void *device, size_t bytes) = 0;
  /// A copy queued on the compute stream.
  virtual Status copyOnDevice(void *to, const void *from, size_t bytes) = 0;
  /// Queues a copy of `rows` rows of `width` bytes, `fromPitch` bytes apart in `from`, to
  /// rows `toPitch` bytes apart in `to`.
  virtual Status copyRowsOnDevice(void *to, size_t toPitch, const void *from,
                                  size_t fromPitch, size_t width, size_t rows) = 0;

  /// Loads every kernel of the artifact; kernel i of the manifest is launched as i.
  virtual Status loadKernels(const parc::artifact::Manifest &manifest) = 0;
  /// Queues kernel `kernel` with one pointer argument per entry of `args`.
  virtual Status launch(int kernel, LaunchShape shape, const std::vector<void *> &args) = 0;
  /// Queues a GEMM.
  virtual Status gemm(const GemmCall &call) = 0;
  /// Waits for everything queued.
  virtual Status synchronize() = 0;

  /// Timing on the device (parc-run --profile): marks the start or end of instruction
  /// `index` in the stream; after a synchronize, instructionMilliseconds adds each marked
  /// instruction's GPU time. Devices that run synchronously (the emulator) mark nothing
  /// and are timed on the host.
  virtual bool timesOnDevice() const { return false; }
  virtual Status markInstruction(size_t index, bool end) { return Status::ok(); }
  virtual Status addInstructionMilliseconds(std::vector<double> &ms) { return Status::ok(); }

  /// CUDA graphs (parc-run --cuda-graphs): between beginCapture and endCapture the queued
  /// work is recorded, not run; replay() runs the recording. Only work queued on the
  /// compute stream may be captured: a copy to or from the host during capture is an
  /// error.
  virtual Status beginCapture() = 0;
  virtual Status endCapture() = 0;
  virtual Status replay() = 0;

  /// For NCCL: the driver's entry points and the compute stream (null on the emulator).
  virtual const cuda::Driver *driverApi() const { return nullptr; }
  virtual cuda::Stream computeStream() const { return nullptr; }
};

/// GPU `ordinal` through the NVIDIA driver and cuBLASLt: the libraries loaded with dlopen,
/// or the given tables of entry points (tests drive the device with fakes).
std::unique_ptr<GpuDevice> openDriverDevice(int ordinal, Status &status,
                                            const cuda::Driver *driver = nullptr,
                                            const cuda::BlasLt *blas = nullptr);
/// The emulator; `workDir` holds its compiled kernels.
std::unique_ptr<GpuDevice> openEmulatedDevice(const std::string &workDir, Status &status);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CUDA_GPUDEVICE_H
