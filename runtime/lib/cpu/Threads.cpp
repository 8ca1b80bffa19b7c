//===- Threads.cpp - the CPU backend's thread count -----------------------===//
//
// Implements setCpuThreads: the count every OpenMP loop of the kernels uses,
// passed on to OpenBLAS so that GEMMs use the same number of threads.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"
#include "KernelSupport.h"

#include <atomic>
#include <cblas.h>
#include <omp.h>

namespace parc::rt::cpu {

/// 0 until setCpuThreads is called: then kernels follow OpenMP's default.
static std::atomic<int> configuredThreads{0};

int cpuThreads() {
  int threads = configuredThreads.load(std::memory_order_relaxed);
  return threads > 0 ? threads : omp_get_max_threads();
}

void setCpuThreads(int threads) {
  threads = std::max(threads, 1);
  configuredThreads.store(threads, std::memory_order_relaxed);
  openblas_set_num_threads(threads);
}

} // namespace parc::rt::cpu
