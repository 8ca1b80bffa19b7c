//===- EmulatorShim.h - host definitions of what CUDA kernels use -*- C++ -*-===//
//
// The source the emulator (EmulatedDevice.cpp) puts before the artifact's kernels to
// compile them for the host. A thread block runs as fibers (ucontext) on one OS thread:
// each thread runs until it reaches __syncthreads (or a warp shuffle, which is two block
// barriers around an exchange through memory) or ends; once every live thread waits, the
// barrier opens. Blocks run one after another, so __shared__ variables are statics.
//
// Internal to the runtime: the string below is the whole shim.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CUDA_EMULATORSHIM_H
#define PARC_RUNTIME_LIB_CUDA_EMULATORSHIM_H

namespace parc::rt {

inline constexpr const char *kEmulatorShim = R"(// The parc CUDA emulator's host shim.
#include <math.h>
#include <string.h>
#include <ucontext.h>
#include <utility>
#include <vector>

struct parc_dim3 { unsigned x = 1, y = 1, z = 1; };
static parc_dim3 threadIdx, blockIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned i) { float f; memcpy(&f, &i, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, 4); return i; }

namespace parc_emu {
struct Fiber {
  ucontext_t context;
  std::vector<char> stack;
  bool done = false, waiting = false;
};
static ucontext_t scheduler;
static std::vector<Fiber> fibers;
static unsigned current = 0;
static void (*entry)(void **) = nullptr;
static void **entryArgs = nullptr;

static void start() {
  entry(entryArgs);
  fibers[current].done = true; // uc_link returns to the scheduler
}

/// Parks the running thread until every live thread of the block is parked.
static void barrier() {
  fibers[current].waiting = true;
  swapcontext(&fibers[current].context, &scheduler);
}

static float exchange[1024];

template <typename... P, size_t... I>
void invokeWith(void (*kernel)(P...), void **args, std::index_sequence<I...>) {
  kernel(static_cast<P>(args[I])...);
}
template <typename... P> void invoke(void (*kernel)(P...), void **args) {
  invokeWith(kernel, args, std::index_sequence_for<P...>{});
}
} // namespace parc_emu

inline void __syncthreads() { parc_emu::barrier(); }
inline float __shfl_xor_sync(unsigned, float v, int offset) {
  unsigned t = threadIdx.x;
  parc_emu::exchange[t] = v;
  parc_emu::barrier();
  unsigned partner = (t & ~31u) | ((t & 31u) ^ (unsigned)offset);
  float other = partner < blockDim.x ? parc_emu::exchange[partner] : v;
  parc_emu::barrier();
  return other;
}

/// Runs `call` (a kernel bound to its arguments) on `blocks` blocks of `threads` threads.
extern "C" int parc_emulator_launch(void (*call)(void **), long long blocks, long long threads,
                                    void **args) {
  using namespace parc_emu;
  if (threads < 1 || threads > 1024) return 1;
  entry = call;
  entryArgs = args;
  fibers.resize(threads);
  gridDim.x = (unsigned)blocks;
  blockDim.x = (unsigned)threads;
  for (long long b = 0; b < blocks; ++b) {
    blockIdx.x = (unsigned)b;
    for (unsigned t = 0; t < threads; ++t) {
      Fiber &fiber = fibers[t];
      fiber.stack.resize(64 * 1024);
      fiber.done = fiber.waiting = false;
      getcontext(&fiber.context);
      fiber.context.uc_stack.ss_sp = fiber.stack.data();
      fiber.context.uc_stack.ss_size = fiber.stack.size();
      fiber.context.uc_link = &scheduler;
      makecontext(&fiber.context, start, 0);
    }
    for (;;) {
      bool live = false;
      for (unsigned t = 0; t < threads; ++t) {
        if (fibers[t].done || fibers[t].waiting) continue;
        current = t;
        threadIdx.x = t;
        swapcontext(&scheduler, &fibers[t].context);
      }
      for (Fiber &fiber : fibers) {
        live |= !fiber.done;
        fiber.waiting = false; // every live thread reached the barrier: it opens
      }
      if (!live) break;
    }
  }
  return 0;
}
)";

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CUDA_EMULATORSHIM_H
