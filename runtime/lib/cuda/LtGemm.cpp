//===- LtGemm.cpp - one GemmCall as a cuBLASLt matmul ---------------------===//

#include "LtGemm.h"

#include <cstdint>

using namespace parc::rt;

namespace {

Status checkBlas(cuda::BlasStatus status, const char *call) {
  return status == 0 ? Status::ok()
                     : Status::error(std::string(call) + " failed with cuBLAS status " +
                                     std::to_string(status));
}

/// The alignment cuBLASLt may assume of `pointer`: the largest power of two dividing its
/// address, up to the 256 it assumes by default. The arena is planned 64-byte aligned, so
/// a GEMM operand can sit at 896 (an f16 GPT-2 at 1x7 puts a result there).
uint32_t alignmentOf(const void *pointer) {
  uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0)
    alignment /= 2;
  return alignment;
}

} // namespace

Status LtGemm::algorithmFor(const GemmCall &call, cuda::LtMatmulDesc desc,
                            cuda::LtMatrixLayout a, cuda::LtMatrixLayout b,
                            cuda::LtMatrixLayout d, cuda::LtAlgo &algo) {
  // The operands' alignments are declared (issue 21, F: the default of 256 let cuBLASLt
  // pick algorithms that need it for pointers that have 64) and are part of the key: an
  // algorithm chosen for aligned pointers may not run on others.
  uint32_t alignments[4] = {alignmentOf(call.a), alignmentOf(call.b), alignmentOf(call.d),
                            alignmentOf(call.d)};
  std::vector<int64_t> key = {static_cast<int64_t>(call.dtype), call.m, call.n, call.k,
                              call.batch, call.transA, call.transB, call.lda, call.ldb,
                              call.ldd, call.strideA, call.strideB, call.strideD,
                              static_cast<int64_t>(call.epilogue), alignments[0],
                              alignments[1], alignments[2]};
  if (auto known = algorithms.find(key); known != algorithms.end()) {
    algo = known->second;
    return Status::ok();
  }
  cuda::LtPreference preference = nullptr;
  PARC_RETURN_IF_ERROR(checkBlas(blas.preferenceCreate(&preference), "cublasLtMatmulPreferenceCreate"));
  uint64_t bytes = workspaceBytes;
  blas.preferenceSetAttribute(preference, cuda::kPreferenceMaxWorkspace, &bytes, sizeof(bytes));
  const int alignmentAttributes[4] = {cuda::kPreferenceMinAlignmentA, cuda::kPreferenceMinAlignmentB,
                                      cuda::kPreferenceMinAlignmentC, cuda::kPreferenceMinAlignmentD};
  for (int i = 0; i < 4; ++i)
    blas.preferenceSetAttribute(preference, alignmentAttributes[i], &alignments[i],
                                sizeof(alignments[i]));
  cuda::LtHeuristicResult result{};
  int found = 0;
  cuda::BlasStatus status =
      blas.algoGetHeuristic(handle, desc, a, b, d, d, preference, 1, &result, &found);
  blas.preferenceDestroy(preference);
  if (status || found == 0)
    return Status::error("cuBLASLt has no algorithm for a " + std::to_string(call.m) + "x" +
                         std::to_string(call.n) + "x" + std::to_string(call.k) + " GEMM");
  algo = algorithms[key] = result.algo;
  return Status::ok();
}

Status LtGemm::run(const GemmCall &call, cuda::Stream stream) {
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
    status = checkBlas(blas.matmul(handle, desc, &alpha, call.a, a, call.b, b, &beta, call.d,
                                   d, call.d, d, &algo, workspace, workspaceBytes, stream),
                       "cublasLtMatmul");
  }
  blas.matrixLayoutDestroy(a);
  blas.matrixLayoutDestroy(b);
  blas.matrixLayoutDestroy(d);
  blas.matmulDescDestroy(desc);
  return status;
}

