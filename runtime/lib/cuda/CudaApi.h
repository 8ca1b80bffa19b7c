//===- CudaApi.h - the NVIDIA libraries, loaded at run time -----*- C++ -*-===//
//
// parc-run links none of CUDA: the driver (libcuda.so.1), cuBLASLt and NCCL are opened
// with dlopen when a --target=cuda artifact runs, so one binary runs everywhere and says
// what is missing. The types and constants below are those of cuda.h, cublasLt.h,
// library_types.h and nccl.h, under names of our own (test/Target/cuda-api-abi.test
// compares them with the toolkit's headers, and the symbol names with its libraries).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CUDA_CUDAAPI_H
#define PARC_RUNTIME_LIB_CUDA_CUDAAPI_H

#include <cstddef>
#include <cstdint>
#include <string>

namespace parc::rt::cuda {

// cuda.h
using Result = int; // CUresult, CUDA_SUCCESS = 0
using Device = int;
using DevicePointer = unsigned long long;
using Context = struct OpaqueContext *;
using Module = struct OpaqueModule *;
using Function = struct OpaqueFunction *;
using Stream = struct OpaqueStream *;
using Event = struct OpaqueEvent *;
using Graph = struct OpaqueGraph *;
using GraphExec = struct OpaqueGraphExec *;
constexpr int kAttributeMultiprocessorCount = 16; // CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT
constexpr int kAttributeComputeCapabilityMajor = 75; // ..._COMPUTE_CAPABILITY_MAJOR
constexpr int kAttributeComputeCapabilityMinor = 76; // ..._COMPUTE_CAPABILITY_MINOR
constexpr unsigned kStreamNonBlocking = 1;        // CU_STREAM_NON_BLOCKING
constexpr int kCaptureModeThreadLocal = 1;        // CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
constexpr int kMemoryTypeDevice = 2;              // CU_MEMORYTYPE_DEVICE
/// CUDA_MEMCPY2D.
struct Memcpy2D {
  size_t srcXInBytes, srcY;
  int srcMemoryType;
  const void *srcHost;
  DevicePointer srcDevice;
  void *srcArray;
  size_t srcPitch;
  size_t dstXInBytes, dstY;
  int dstMemoryType;
  void *dstHost;
  DevicePointer dstDevice;
  void *dstArray;
  size_t dstPitch;
  size_t WidthInBytes, Height;
};

// library_types.h, cublas_api.h, cublasLt.h
using BlasStatus = int;
using LtHandle = struct OpaqueLtHandle *;
using LtMatmulDesc = struct OpaqueLtMatmulDesc *;
using LtMatrixLayout = struct OpaqueLtMatrixLayout *;
using LtPreference = struct OpaqueLtPreference *;
constexpr int kDataF32 = 0;   // CUDA_R_32F
constexpr int kDataF16 = 2;   // CUDA_R_16F
constexpr int kDataBF16 = 14; // CUDA_R_16BF
constexpr int kComputeF32 = 68; // CUBLAS_COMPUTE_32F
constexpr int kOpN = 0, kOpT = 1; // CUBLAS_OP_N, CUBLAS_OP_T
constexpr int kDescTransA = 3, kDescTransB = 4;      // CUBLASLT_MATMUL_DESC_TRANSA/B
constexpr int kDescEpilogue = 7;                     // CUBLASLT_MATMUL_DESC_EPILOGUE
constexpr int kDescBiasPointer = 8;                  // CUBLASLT_MATMUL_DESC_BIAS_POINTER
constexpr int kDescBiasBatchStride = 10; // CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE
constexpr int kDescBiasDataType = 26;    // CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE
constexpr uint32_t kEpilogueDefault = 1;             // CUBLASLT_EPILOGUE_DEFAULT
constexpr uint32_t kEpilogueBias = 4;                // CUBLASLT_EPILOGUE_BIAS
constexpr uint32_t kEpilogueGeluBias = 36;           // CUBLASLT_EPILOGUE_GELU_BIAS
constexpr int kLayoutBatchCount = 5;                 // CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT
constexpr int kLayoutStridedBatchOffset = 6; // CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET
constexpr int kPreferenceMaxWorkspace = 1;   // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
/// CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_{A,B,C,D}_BYTES (uint32_t, default 256).
constexpr int kPreferenceMinAlignmentA = 5, kPreferenceMinAlignmentB = 6,
              kPreferenceMinAlignmentC = 7, kPreferenceMinAlignmentD = 8;
struct LtAlgo {
  uint64_t data[8];
};
/// cublasLtMatmulHeuristicResult_t.
struct LtHeuristicResult {
  LtAlgo algo;
  size_t workspaceSize;
  BlasStatus state;
  float wavesCount;
  int reserved[4];
};

// nccl.h
using NcclResult = int;
using NcclComm = struct OpaqueNcclComm *;
struct NcclUniqueId {
  char internal[128];
};
constexpr int kNcclSum = 0;
constexpr int kNcclUint8 = 1, kNcclInt32 = 2, kNcclInt64 = 4, kNcclFloat16 = 6,
              kNcclFloat32 = 7, kNcclBfloat16 = 9;

/// libcuda.so.1's entry points parc uses.
struct Driver {
  Result (*init)(unsigned);
  Result (*deviceGet)(Device *, int);
  Result (*deviceGetName)(char *, int, Device);
  Result (*deviceGetAttribute)(int *, int, Device);
  Result (*primaryCtxRetain)(Context *, Device);
  Result (*ctxSetCurrent)(Context);
  Result (*streamCreate)(Stream *, unsigned);
  Result (*streamSynchronize)(Stream);
  Result (*memAlloc)(DevicePointer *, size_t);
  Result (*memFree)(DevicePointer);
  Result (*memHostAlloc)(void **, size_t, unsigned);
  Result (*memFreeHost)(void *);
  Result (*memcpyHtoDAsync)(DevicePointer, const void *, size_t, Stream);
  Result (*memcpyDtoHAsync)(void *, DevicePointer, size_t, Stream);
  Result (*memcpyDtoDAsync)(DevicePointer, DevicePointer, size_t, Stream);
  Result (*memcpy2DAsync)(const Memcpy2D *, Stream);
  Result (*moduleLoadData)(Module *, const void *);
  Result (*moduleGetFunction)(Function *, Module, const char *);
  Result (*launchKernel)(Function, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                         unsigned, Stream, void **, void **);
  /// Blocks of `function` at `blockSize` threads (and dynamic shared memory) that fit on
  /// one multiprocessor at once, given its registers and shared memory.
  Result (*occupancyMaxActiveBlocksPerMultiprocessor)(int *, Function, int, size_t);
  Result (*eventCreate)(Event *, unsigned);
  Result (*eventRecord)(Event, Stream);
  Result (*eventSynchronize)(Event);
  Result (*eventElapsedTime)(float *, Event, Event);
  Result (*streamWaitEvent)(Stream, Event, unsigned);
  Result (*streamBeginCapture)(Stream, int);
  Result (*streamEndCapture)(Stream, Graph *);
  Result (*graphInstantiate)(GraphExec *, Graph, unsigned long long);
  Result (*graphLaunch)(GraphExec, Stream);
  Result (*getErrorString)(Result, const char **);
  /// The CUDA version the driver supports, 1000 * major + 10 * minor (12040: 12.4).
  Result (*driverGetVersion)(int *);
};

/// libcublasLt's.
struct BlasLt {
  BlasStatus (*create)(LtHandle *);
  BlasStatus (*matmulDescCreate)(LtMatmulDesc *, int, int);
  BlasStatus (*matmulDescSetAttribute)(LtMatmulDesc, int, const void *, size_t);
  BlasStatus (*matmulDescDestroy)(LtMatmulDesc);
  BlasStatus (*matrixLayoutCreate)(LtMatrixLayout *, int, uint64_t, uint64_t, int64_t);
  BlasStatus (*matrixLayoutSetAttribute)(LtMatrixLayout, int, const void *, size_t);
  BlasStatus (*matrixLayoutDestroy)(LtMatrixLayout);
  BlasStatus (*preferenceCreate)(LtPreference *);
  BlasStatus (*preferenceSetAttribute)(LtPreference, int, const void *, size_t);
  BlasStatus (*preferenceDestroy)(LtPreference);
  BlasStatus (*algoGetHeuristic)(LtHandle, LtMatmulDesc, LtMatrixLayout, LtMatrixLayout,
                                 LtMatrixLayout, LtMatrixLayout, LtPreference, int,
                                 LtHeuristicResult *, int *);
  BlasStatus (*matmul)(LtHandle, LtMatmulDesc, const void *, const void *, LtMatrixLayout,
                       const void *, LtMatrixLayout, const void *, const void *,
                       LtMatrixLayout, void *, LtMatrixLayout, const LtAlgo *, void *, size_t,
                       Stream);
};

/// libnccl.so.2's.
struct Nccl {
  NcclResult (*getUniqueId)(NcclUniqueId *);
  NcclResult (*commInitRank)(NcclComm *, int, NcclUniqueId, int);
  NcclResult (*commDestroy)(NcclComm);
  NcclResult (*allReduce)(const void *, void *, size_t, int, int, NcclComm, Stream);
  NcclResult (*allGather)(const void *, void *, size_t, int, NcclComm, Stream);
  NcclResult (*reduceScatter)(const void *, void *, size_t, int, int, NcclComm, Stream);
  const char *(*getErrorString)(NcclResult);
};

/// Opens the library and binds every entry point: the file `path` names, or else
/// libcuda.so.1 through the dynamic linker, cuBLASLt and NCCL where LibraryDiscovery.h
/// looks for them. False with `error` naming the library or the missing symbol.
bool loadDriver(Driver &driver, std::string &error, const char *path = nullptr);
bool loadBlasLt(BlasLt &blas, std::string &error, const char *path = nullptr);
bool loadNccl(Nccl &nccl, std::string &error, const char *path = nullptr);

} // namespace parc::rt::cuda

#endif // PARC_RUNTIME_LIB_CUDA_CUDAAPI_H
