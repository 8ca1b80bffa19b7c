//===- LtGemmTest.cpp - GemmCalls through the cuBLASLt API ----------------===//
//
// LtGemm drives cuBLASLt through a table of entry points; here the table is a fake that
// records every descriptor and layout attribute and then multiplies as cuBLASLt documents
// it (cublasLt.h): column-major layouts of rows x cols with a leading dim, batch count and
// strided batch offset on each layout, transposes, the bias / GELU-bias epilogue with the
// bias pointer and type, f32 compute and scale (f32 accumulation for f32, f16 and bf16
// matrices alike, every layout of one type), alpha = 1 and beta = 0, and a result rounded
// to nearest even into the layout's type. Each attribute must have the size the header
// gives its type. The products of parc matmuls planned by planMatmul must equal the CPU
// backend's matmul plus the epilogue (f32: 1e-5 relative to the largest magnitude); in f16
// and bf16 every element must be within the bound of its arithmetic, u |y| + gamma_K
// (sum_k |a_k b_k| + |bias|) against the product computed in double from the same rounded
// operands (u the type's unit roundoff, gamma_K = K 2^-24 / (1 - K 2^-24)), and the
// heuristic must be asked once per shape and type.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "TestUtils.h"
#include "cuda/GemmPlan.h"
#include "cuda/LtGemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

using Attributes = std::map<int, std::vector<char>>;
struct FakeDesc {
  int compute, scale;
  Attributes attributes;
};
struct FakeLayout {
  int type;
  uint64_t rows, cols;
  int64_t ld;
  Attributes attributes;
};

/// What the fake saw: mistakes it found, heuristic queries.
std::vector<std::string> mistakes;
int heuristicQueries = 0;
/// The minimum alignments of A, B, C and D the last heuristic query was given.
uint32_t declaredAlignments[4] = {0, 0, 0, 0};

/// The documented size of each attribute parc sets (cublasLt.h).
size_t documentedSize(bool layout, int attribute) {
  if (layout)
    return attribute == cuda::kLayoutBatchCount ? sizeof(int32_t) : sizeof(int64_t);
  switch (attribute) {
  case cuda::kDescTransA:
  case cuda::kDescTransB:
  case cuda::kDescBiasDataType:
    return sizeof(int32_t);
  case cuda::kDescEpilogue:
    return sizeof(uint32_t);
  case cuda::kDescBiasPointer:
    return sizeof(void *);
  case cuda::kDescBiasBatchStride:
    return sizeof(int64_t);
  }
  return 0;
}

template <typename T> T attribute(const Attributes &attributes, int id, T fallback) {
  auto it = attributes.find(id);
  if (it == attributes.end())
    return fallback;
  T value;
  std::memcpy(&value, it->second.data(), sizeof(T));
  return value;
}

float load(int type, const void *base, int64_t index) {
  if (type == cuda::kDataF16)
    return halfToFloat(static_cast<const uint16_t *>(base)[index]);
  if (type == cuda::kDataBF16)
    return bf16ToFloat(static_cast<const uint16_t *>(base)[index]);
  return static_cast<const float *>(base)[index];
}

cuda::BlasLt fakeBlasLt() {
  cuda::BlasLt blas{};
  blas.create = [](cuda::LtHandle *handle) {
    *handle = reinterpret_cast<cuda::LtHandle>(1);
    return 0;
  };
  blas.matmulDescCreate = [](cuda::LtMatmulDesc *desc, int compute, int scale) {
    *desc = reinterpret_cast<cuda::LtMatmulDesc>(new FakeDesc{compute, scale, {}});
    return 0;
  };
  blas.matmulDescSetAttribute = [](cuda::LtMatmulDesc desc, int id, const void *value,
                                   size_t size) {
    if (size != documentedSize(false, id))
      mistakes.push_back("matmul attribute " + std::to_string(id) + " has size " +
                         std::to_string(size));
    auto *bytes = static_cast<const char *>(value);
    reinterpret_cast<FakeDesc *>(desc)->attributes[id].assign(bytes, bytes + size);
    return 0;
  };
  blas.matmulDescDestroy = [](cuda::LtMatmulDesc desc) {
    delete reinterpret_cast<FakeDesc *>(desc);
    return 0;
  };
  blas.matrixLayoutCreate = [](cuda::LtMatrixLayout *layout, int type, uint64_t rows,
                               uint64_t cols, int64_t ld) {
    if (ld < static_cast<int64_t>(rows))
      mistakes.push_back("a column-major layout's leading dim is less than its rows");
    *layout = reinterpret_cast<cuda::LtMatrixLayout>(new FakeLayout{type, rows, cols, ld, {}});
    return 0;
  };
  blas.matrixLayoutSetAttribute = [](cuda::LtMatrixLayout layout, int id, const void *value,
                                     size_t size) {
    if (size != documentedSize(true, id))
      mistakes.push_back("layout attribute " + std::to_string(id) + " has size " +
                         std::to_string(size));
    auto *bytes = static_cast<const char *>(value);
    reinterpret_cast<FakeLayout *>(layout)->attributes[id].assign(bytes, bytes + size);
    return 0;
  };
  blas.matrixLayoutDestroy = [](cuda::LtMatrixLayout layout) {
    delete reinterpret_cast<FakeLayout *>(layout);
    return 0;
  };
  blas.preferenceCreate = [](cuda::LtPreference *preference) {
    *preference = reinterpret_cast<cuda::LtPreference>(2);
    return 0;
  };
  blas.preferenceSetAttribute = [](cuda::LtPreference, int id, const void *value,
                                   size_t size) {
    if (id >= cuda::kPreferenceMinAlignmentA && id <= cuda::kPreferenceMinAlignmentD &&
        size == sizeof(uint32_t))
      declaredAlignments[id - cuda::kPreferenceMinAlignmentA] =
          *static_cast<const uint32_t *>(value);
    else if (id != cuda::kPreferenceMaxWorkspace || size != sizeof(uint64_t))
      mistakes.push_back("preference attribute " + std::to_string(id));
    return 0;
  };
  blas.preferenceDestroy = [](cuda::LtPreference) { return 0; };
  blas.algoGetHeuristic = [](cuda::LtHandle, cuda::LtMatmulDesc, cuda::LtMatrixLayout,
                             cuda::LtMatrixLayout, cuda::LtMatrixLayout, cuda::LtMatrixLayout,
                             cuda::LtPreference, int requested, cuda::LtHeuristicResult *results,
                             int *found) {
    ++heuristicQueries;
    results[0] = cuda::LtHeuristicResult{};
    *found = requested > 0 ? 1 : 0;
    return 0;
  };
  blas.matmul = [](cuda::LtHandle, cuda::LtMatmulDesc rawDesc, const void *alpha,
                   const void *a, cuda::LtMatrixLayout rawA, const void *b,
                   cuda::LtMatrixLayout rawB, const void *beta, const void *,
                   cuda::LtMatrixLayout, void *d, cuda::LtMatrixLayout rawD, const cuda::LtAlgo *,
                   void *, size_t, cuda::Stream) {
    auto &desc = *reinterpret_cast<FakeDesc *>(rawDesc);
    auto &la = *reinterpret_cast<FakeLayout *>(rawA);
    auto &lb = *reinterpret_cast<FakeLayout *>(rawB);
    auto &ld = *reinterpret_cast<FakeLayout *>(rawD);
    if (desc.compute != cuda::kComputeF32 || desc.scale != cuda::kDataF32 ||
        *static_cast<const float *>(alpha) != 1.0f || *static_cast<const float *>(beta) != 0.0f)
      mistakes.push_back("not f32 compute and scale with alpha 1 and beta 0");
    if (la.type != ld.type || lb.type != ld.type ||
        (ld.type != cuda::kDataF32 && ld.type != cuda::kDataF16 && ld.type != cuda::kDataBF16))
      mistakes.push_back("the layouts are not of one type among f32, f16 and bf16");
    bool transA = attribute<int32_t>(desc.attributes, cuda::kDescTransA, cuda::kOpN) == cuda::kOpT;
    bool transB = attribute<int32_t>(desc.attributes, cuda::kDescTransB, cuda::kOpN) == cuda::kOpT;
    uint32_t epilogue = attribute<uint32_t>(desc.attributes, cuda::kDescEpilogue, cuda::kEpilogueDefault);
    const void *bias = attribute<const void *>(desc.attributes, cuda::kDescBiasPointer, nullptr);
    int biasType = attribute<int32_t>(desc.attributes, cuda::kDescBiasDataType, ld.type);
    uint64_t m = transA ? la.cols : la.rows, k = transA ? la.rows : la.cols;
    uint64_t n = transB ? lb.rows : lb.cols;
    if ((transB ? lb.cols : lb.rows) != k || ld.rows != m || ld.cols != n)
      mistakes.push_back("the layouts' shapes do not chain");
    int32_t batch = attribute<int32_t>(ld.attributes, cuda::kLayoutBatchCount, 1);
    for (int32_t i = 0; i < batch; ++i) {
      int64_t sa = i * attribute<int64_t>(la.attributes, cuda::kLayoutStridedBatchOffset, 0);
      int64_t sb = i * attribute<int64_t>(lb.attributes, cuda::kLayoutStridedBatchOffset, 0);
      int64_t sd = i * attribute<int64_t>(ld.attributes, cuda::kLayoutStridedBatchOffset, 0);
      for (uint64_t c = 0; c < n; ++c)
        for (uint64_t r = 0; r < m; ++r) {
          double sum = 0;
          for (uint64_t p = 0; p < k; ++p)
            sum += double(load(la.type, a, sa + (transA ? p + r * la.ld : r + p * la.ld))) *
                   load(lb.type, b, sb + (transB ? c + p * lb.ld : p + c * lb.ld));
          if (epilogue == cuda::kEpilogueBias || epilogue == cuda::kEpilogueGeluBias)
            sum += load(biasType, bias, r);
          if (epilogue == cuda::kEpilogueGeluBias)
            sum = 0.5 * sum * (1 + std::tanh(0.7978845608028654 * (sum + 0.044715 * sum * sum * sum)));
          int64_t at = sd + r + c * ld.ld;
          if (ld.type == cuda::kDataF16)
            static_cast<uint16_t *>(d)[at] = floatToHalf(static_cast<float>(sum));
          else if (ld.type == cuda::kDataBF16)
            static_cast<uint16_t *>(d)[at] = floatToBf16(static_cast<float>(sum));
          else
            static_cast<float *>(d)[at] = static_cast<float>(sum);
        }
    }
    return 0;
  };
  return blas;
}

double gelu(double value) {
  return 0.5 * value * (1 + std::tanh(0.7978845608028654 * (value + 0.044715 * value * value * value)));
}

/// A random tensor of `dtype` (f16/bf16 values rounded from f32 ones).
Tensor randomOf(DType dtype, const Shape &shape, unsigned seed) {
  std::vector<float> values = randomFloats(numElements(shape), seed);
  return make(dtype, shape, std::vector<double>(values.begin(), values.end()));
}

void expectProduct(LtGemm &gemm, const Shape &lhsShape, const Shape &rhsShape,
                   const Shape &outShape, GemmEpilogue epilogue, DType dtype = DType::F32) {
  Tensor lhs = randomOf(dtype, lhsShape, 21), rhs = randomOf(dtype, rhsShape, 22);
  Tensor bias = randomOf(dtype, {rhsShape.back()}, 23);
  Tensor actual(dtype, outShape);
  TensorRef biasRef = bias.ref();
  GemmCall call;
  ASSERT_TRUE(planMatmul(lhs.ref(), rhs.ref(), actual.ref(), epilogue,
                         epilogue == GemmEpilogue::None ? nullptr : &biasRef, call));
  mistakes.clear();
  Status status = gemm.run(call, nullptr);
  ASSERT_TRUE(status) << status.message();
  for (const std::string &mistake : mistakes)
    ADD_FAILURE() << mistake;
  std::vector<double> got = actual.asDoubles();
  if (dtype == DType::F32) {
    Tensor expected(DType::F32, outShape);
    cpu::matmul(lhs.ref(), rhs.ref(), expected.ref());
    std::vector<float> want = expected.values<float>();
    double largest = 1;
    for (size_t i = 0; i < want.size(); ++i) {
      double value = want[i];
      if (epilogue != GemmEpilogue::None)
        value += bias.data<float>()[i % rhsShape.back()];
      if (epilogue == GemmEpilogue::BiasGelu)
        value = gelu(value);
      want[i] = static_cast<float>(value);
      largest = std::max(largest, std::fabs(value));
    }
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-5 * largest) << "element " << i;
    return;
  }
  // f16/bf16: the product in double from the rounded operands, and the bound of f32
  // accumulation plus one rounding into the type (GELU's input error passes through its
  // derivative, which is at most 1.13).
  std::vector<double> a = lhs.asDoubles(), b = rhs.asDoubles(), c = bias.asDoubles();
  int64_t M = lhsShape[lhsShape.size() - 2], K = lhsShape.back(), N = rhsShape.back();
  int64_t lhsMatrices = lhs.size() / (M * K), rhsMatrices = rhs.size() / (K * N);
  double unit = dtype == DType::F16 ? std::ldexp(1.0, -11) : std::ldexp(1.0, -8);
  double gammaK = K * std::ldexp(1.0, -24) / (1 - K * std::ldexp(1.0, -24));
  for (int64_t i = 0; i < actual.size(); ++i) {
    int64_t matrix = i / (M * N), row = i / N % M, column = i % N;
    const double *x = &a[(lhsMatrices == 1 ? 0 : matrix) * M * K + row * K];
    const double *y = &b[(rhsMatrices == 1 ? 0 : matrix) * K * N + column];
    double exact = 0, magnitude = 0;
    for (int64_t k = 0; k < K; ++k) {
      exact += x[k] * y[k * N];
      magnitude += std::fabs(x[k] * y[k * N]);
    }
    if (epilogue != GemmEpilogue::None) {
      exact += c[column];
      magnitude += std::fabs(c[column]);
    }
    double accumulation = gammaK * magnitude;
    if (epilogue == GemmEpilogue::BiasGelu) {
      exact = gelu(exact);
      accumulation *= 1.13;
    }
    ASSERT_LE(std::fabs(got[i] - exact), unit * std::fabs(exact) + accumulation)
        << dtypeName(dtype) << " element " << i << ": " << got[i] << " vs " << exact;
  }
}

TEST(LtGemmTest, PlannedProductsThroughTheCublasLtApi) {
  cuda::BlasLt blas = fakeBlasLt();
  cuda::LtHandle handle = nullptr;
  blas.create(&handle);
  char workspace[16];
  LtGemm gemm(blas, handle, workspace, sizeof(workspace));
  heuristicQueries = 0;
  expectProduct(gemm, {3, 5}, {5, 7}, {3, 7}, GemmEpilogue::None);
  expectProduct(gemm, {2, 4, 6}, {6, 5}, {2, 4, 5}, GemmEpilogue::Bias);
  expectProduct(gemm, {2, 4, 6}, {6, 5}, {2, 4, 5}, GemmEpilogue::BiasGelu);
  expectProduct(gemm, {2, 3, 4, 6}, {2, 3, 6, 5}, {2, 3, 4, 5}, GemmEpilogue::None);
  expectProduct(gemm, {4, 6}, {3, 6, 5}, {3, 4, 5}, GemmEpilogue::Bias);
  EXPECT_EQ(heuristicQueries, 5);
}

// Issue 21 (F): each operand's alignment is declared from its pointer (the arena is 64-byte
// aligned, cuBLASLt assumes 256 unless told), and a call whose pointers are aligned
// otherwise asks the heuristic again; the same call reuses its choice.
TEST(LtGemmTest, AlignmentsAreDeclaredFromThePointers) {
  cuda::BlasLt blas = fakeBlasLt();
  cuda::LtHandle handle = nullptr;
  blas.create(&handle);
  char workspace[16];
  LtGemm gemm(blas, handle, workspace, sizeof(workspace));
  alignas(256) static float arena[1024];
  GemmCall call;
  call.m = call.n = call.k = 4;
  call.lda = call.ldb = call.ldd = 4;
  call.a = arena;
  call.b = arena + 64;             // 256 bytes in: 256-aligned
  call.d = arena + 224;            // 896 bytes in: 128-aligned
  heuristicQueries = 0;
  ASSERT_TRUE(gemm.run(call, nullptr));
  EXPECT_EQ(heuristicQueries, 1);
  EXPECT_EQ(std::vector<uint32_t>(declaredAlignments, declaredAlignments + 4),
            (std::vector<uint32_t>{256, 256, 128, 128}));
  ASSERT_TRUE(gemm.run(call, nullptr)); // the same call: the choice is reused
  EXPECT_EQ(heuristicQueries, 1);
  call.a = arena + 16;             // 64 bytes in: 64-aligned, another algorithm may be needed
  ASSERT_TRUE(gemm.run(call, nullptr));
  EXPECT_EQ(heuristicQueries, 2);
  EXPECT_EQ(declaredAlignments[0], 64u);
}

TEST(LtGemmTest, HalfAndBFloat16ProductsAccumulateInF32) {
  cuda::BlasLt blas = fakeBlasLt();
  cuda::LtHandle handle = nullptr;
  blas.create(&handle);
  char workspace[16];
  LtGemm gemm(blas, handle, workspace, sizeof(workspace));
  heuristicQueries = 0;
  for (DType dtype : {DType::F16, DType::BF16}) {
    expectProduct(gemm, {3, 5}, {5, 7}, {3, 7}, GemmEpilogue::None, dtype);
    expectProduct(gemm, {2, 7, 768}, {768, 9}, {2, 7, 9}, GemmEpilogue::Bias, dtype);
    expectProduct(gemm, {2, 4, 6}, {6, 5}, {2, 4, 5}, GemmEpilogue::BiasGelu, dtype);
    expectProduct(gemm, {2, 3, 4, 6}, {2, 3, 6, 5}, {2, 3, 4, 5}, GemmEpilogue::None, dtype);
  }
  // One heuristic query per shape and type.
  EXPECT_EQ(heuristicQueries, 8);
}

} // namespace
