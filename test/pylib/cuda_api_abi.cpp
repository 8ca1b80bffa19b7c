// Checks parc-run's own declarations of the NVIDIA APIs (runtime/lib/cuda/CudaApi.h)
// against the toolkit: every constant and struct layout at compile time, and every entry
// point parc-run binds by name in the toolkit's libraries (the driver's link stub,
// cuBLASLt, NCCL) at run time. Used by test/Runtime/cuda-api-abi.test.
#include "CudaApi.h"

#include <cstddef>
#include <cstdio>
#include <cublasLt.h>
#include <cuda.h>
#include <nccl.h>
#include <string>

using namespace parc::rt;

static_assert(cuda::kAttributeMultiprocessorCount == CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
static_assert(cuda::kAttributeComputeCapabilityMajor == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
static_assert(cuda::kAttributeComputeCapabilityMinor == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
static_assert(cuda::kStreamNonBlocking == CU_STREAM_NON_BLOCKING);
static_assert(cuda::kCaptureModeThreadLocal == CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
static_assert(cuda::kMemoryTypeDevice == CU_MEMORYTYPE_DEVICE);
static_assert(sizeof(cuda::DevicePointer) == sizeof(CUdeviceptr));
static_assert(sizeof(cuda::Memcpy2D) == sizeof(CUDA_MEMCPY2D));
static_assert(offsetof(cuda::Memcpy2D, srcDevice) == offsetof(CUDA_MEMCPY2D, srcDevice));
static_assert(offsetof(cuda::Memcpy2D, dstPitch) == offsetof(CUDA_MEMCPY2D, dstPitch));
static_assert(offsetof(cuda::Memcpy2D, Height) == offsetof(CUDA_MEMCPY2D, Height));
static_assert(cuda::kDataF32 == CUDA_R_32F && cuda::kDataF16 == CUDA_R_16F &&
              cuda::kDataBF16 == CUDA_R_16BF);
static_assert(cuda::kComputeF32 == CUBLAS_COMPUTE_32F);
static_assert(cuda::kOpN == CUBLAS_OP_N && cuda::kOpT == CUBLAS_OP_T);
static_assert(cuda::kDescTransA == CUBLASLT_MATMUL_DESC_TRANSA);
static_assert(cuda::kDescTransB == CUBLASLT_MATMUL_DESC_TRANSB);
static_assert(cuda::kDescEpilogue == CUBLASLT_MATMUL_DESC_EPILOGUE);
static_assert(cuda::kDescBiasPointer == CUBLASLT_MATMUL_DESC_BIAS_POINTER);
static_assert(cuda::kDescBiasBatchStride == CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE);
static_assert(cuda::kDescBiasDataType == CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE);
static_assert(cuda::kEpilogueDefault == CUBLASLT_EPILOGUE_DEFAULT);
static_assert(cuda::kEpilogueBias == CUBLASLT_EPILOGUE_BIAS);
static_assert(cuda::kEpilogueGeluBias == CUBLASLT_EPILOGUE_GELU_BIAS);
static_assert(cuda::kLayoutBatchCount == CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT);
static_assert(cuda::kLayoutStridedBatchOffset == CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET);
static_assert(cuda::kPreferenceMaxWorkspace == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES);
static_assert(cuda::kPreferenceMinAlignmentA == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES);
static_assert(cuda::kPreferenceMinAlignmentB == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES);
static_assert(cuda::kPreferenceMinAlignmentC == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES);
static_assert(cuda::kPreferenceMinAlignmentD == CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES);
static_assert(sizeof(cuda::LtAlgo) == sizeof(cublasLtMatmulAlgo_t));
static_assert(sizeof(cuda::LtHeuristicResult) == sizeof(cublasLtMatmulHeuristicResult_t));
static_assert(offsetof(cuda::LtHeuristicResult, state) ==
              offsetof(cublasLtMatmulHeuristicResult_t, state));
static_assert(sizeof(cuda::NcclUniqueId) == sizeof(ncclUniqueId));
static_assert(cuda::kNcclSum == ncclSum);
static_assert(cuda::kNcclUint8 == ncclUint8 && cuda::kNcclInt32 == ncclInt32 &&
              cuda::kNcclInt64 == ncclInt64 && cuda::kNcclFloat16 == ncclFloat16 &&
              cuda::kNcclFloat32 == ncclFloat32 && cuda::kNcclBfloat16 == ncclBfloat16);

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s LIBCUDA LIBCUBLASLT LIBNCCL\n", argv[0]);
    return 2;
  }
  int failures = 0;
  auto report = [&](const char *what, bool ok, const std::string &error) {
    std::printf("%s: %s\n", what, ok ? "every entry point bound" : error.c_str());
    failures += !ok;
  };
  std::string error;
  cuda::Driver driver{};
  report("driver", cuda::loadDriver(driver, error, argv[1]), error);
  error.clear();
  cuda::BlasLt blas{};
  report("cublasLt", cuda::loadBlasLt(blas, error, argv[2]), error);
  error.clear();
  cuda::Nccl nccl{};
  report("nccl", cuda::loadNccl(nccl, error, argv[3]), error);
  // A library that is not there is an error naming it.
  error.clear();
  cuda::Driver missing{};
  bool loaded = cuda::loadDriver(missing, error, "/nonexistent/libcuda.so.1");
  std::printf("missing driver: %s\n", loaded ? "loaded?" : error.c_str());
  return failures;
}
