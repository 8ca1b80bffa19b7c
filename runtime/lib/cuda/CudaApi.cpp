//===- CudaApi.cpp - the NVIDIA libraries, loaded at run time -------------===//

#include "CudaApi.h"

#include "parc/Runtime/LibraryDiscovery.h"

#include <dlfcn.h>
#include <initializer_list>
#include <type_traits>

using namespace parc::rt;

namespace {

/// Binds entry points of one library: the file `path` names (tests' fakes), or else the one
/// `find` opens.
class Binder {
public:
  template <typename Find>
  Binder(const std::string &what, const char *path, std::string &error, Find find)
      : error(error) {
    if (!path) {
      handle = find();
      return;
    }
    if (!(handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
      error = what + " (" + path + ") could not be loaded: " + dlerror();
  }
  template <typename Function> void operator()(Function &function, const char *symbol) {
    if (!handle)
      return;
    function = reinterpret_cast<std::remove_reference_t<Function>>(dlsym(handle, symbol));
    if (!function && error.empty())
      error = std::string("the library has no ") + symbol;
  }
  /// Binds the first of `symbols` the library has (a newer entry point, then the one
  /// older drivers have); the error names the first.
  template <typename Function>
  void first(Function &function, std::initializer_list<const char *> symbols) {
    if (!handle)
      return;
    for (const char *symbol : symbols)
      if ((function = reinterpret_cast<std::remove_reference_t<Function>>(dlsym(handle, symbol))))
        return;
    if (error.empty())
      error = std::string("the library has no ") + *symbols.begin();
  }
  bool ok() const { return handle && error.empty(); }

private:
  void *handle = nullptr;
  std::string &error;
};

/// Opens `kind` where LibraryDiscovery.h looks for it.
void *discover(const LibraryKind &kind, std::string &error) {
  OpenedLibrary library;
  return openLibrary(kind, library, error) ? library.handle : nullptr;
}

} // namespace

bool cuda::loadDriver(Driver &driver, std::string &error, const char *path) {
  // The versioned names are those cuda.h maps the plain names to.
  // The driver comes with the GPU's kernel module: the dynamic linker finds it.
  Binder bind("the NVIDIA driver", path, error, [&]() -> void * {
    void *handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      error = std::string("the NVIDIA driver (libcuda.so.1) could not be loaded: ") + dlerror();
    return handle;
  });
  bind(driver.init, "cuInit");
  bind(driver.deviceGet, "cuDeviceGet");
  bind(driver.deviceGetName, "cuDeviceGetName");
  bind(driver.deviceGetAttribute, "cuDeviceGetAttribute");
  bind(driver.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  bind(driver.ctxSetCurrent, "cuCtxSetCurrent");
  bind(driver.streamCreate, "cuStreamCreate");
  bind(driver.streamSynchronize, "cuStreamSynchronize");
  bind(driver.memAlloc, "cuMemAlloc_v2");
  bind(driver.memFree, "cuMemFree_v2");
  bind(driver.memHostAlloc, "cuMemHostAlloc");
  bind(driver.memFreeHost, "cuMemFreeHost");
  bind(driver.memcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  bind(driver.memcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  bind(driver.memcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
  bind(driver.memcpy2DAsync, "cuMemcpy2DAsync_v2");
  bind(driver.moduleLoadData, "cuModuleLoadData");
  bind(driver.moduleGetFunction, "cuModuleGetFunction");
  bind(driver.launchKernel, "cuLaunchKernel");
  bind(driver.occupancyMaxActiveBlocksPerMultiprocessor,
       "cuOccupancyMaxActiveBlocksPerMultiprocessor");
  bind(driver.eventCreate, "cuEventCreate");
  bind(driver.eventRecord, "cuEventRecord");
  bind(driver.eventSynchronize, "cuEventSynchronize");
  // cuda.h maps cuEventElapsedTime to _v2 from CUDA 12.8 on; older drivers have only the
  // first version, which measures the same.
  bind.first(driver.eventElapsedTime, {"cuEventElapsedTime_v2", "cuEventElapsedTime"});
  bind(driver.streamWaitEvent, "cuStreamWaitEvent");
  bind(driver.streamBeginCapture, "cuStreamBeginCapture_v2");
  bind(driver.streamEndCapture, "cuStreamEndCapture");
  bind(driver.graphInstantiate, "cuGraphInstantiateWithFlags");
  bind(driver.graphLaunch, "cuGraphLaunch");
  bind(driver.getErrorString, "cuGetErrorString");
  bind(driver.driverGetVersion, "cuDriverGetVersion");
  return bind.ok();
}

bool cuda::loadBlasLt(BlasLt &blas, std::string &error, const char *path) {
  Binder bind(cublasLtLibrary().name, path, error,
              [&] { return discover(cublasLtLibrary(), error); });
  bind(blas.create, "cublasLtCreate");
  bind(blas.matmulDescCreate, "cublasLtMatmulDescCreate");
  bind(blas.matmulDescSetAttribute, "cublasLtMatmulDescSetAttribute");
  bind(blas.matmulDescDestroy, "cublasLtMatmulDescDestroy");
  bind(blas.matrixLayoutCreate, "cublasLtMatrixLayoutCreate");
  bind(blas.matrixLayoutSetAttribute, "cublasLtMatrixLayoutSetAttribute");
  bind(blas.matrixLayoutDestroy, "cublasLtMatrixLayoutDestroy");
  bind(blas.preferenceCreate, "cublasLtMatmulPreferenceCreate");
  bind(blas.preferenceSetAttribute, "cublasLtMatmulPreferenceSetAttribute");
  bind(blas.preferenceDestroy, "cublasLtMatmulPreferenceDestroy");
  bind(blas.algoGetHeuristic, "cublasLtMatmulAlgoGetHeuristic");
  bind(blas.matmul, "cublasLtMatmul");
  return bind.ok();
}

bool cuda::loadNccl(Nccl &nccl, std::string &error, const char *path) {
  Binder bind(ncclLibrary().name, path, error, [&] { return discover(ncclLibrary(), error); });
  bind(nccl.getUniqueId, "ncclGetUniqueId");
  bind(nccl.commInitRank, "ncclCommInitRank");
  bind(nccl.commDestroy, "ncclCommDestroy");
  bind(nccl.allReduce, "ncclAllReduce");
  bind(nccl.allGather, "ncclAllGather");
  bind(nccl.reduceScatter, "ncclReduceScatter");
  bind(nccl.getErrorString, "ncclGetErrorString");
  return bind.ok();
}
