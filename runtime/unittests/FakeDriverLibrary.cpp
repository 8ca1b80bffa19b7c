//===- FakeDriverLibrary.cpp - a libcuda.so of one driver version ---------===//
//
// Built three times as a shared library for CudaApiTest: as a driver of CUDA 12.8 or later
// (PARC_FAKE_DRIVER_HAS_V2: cuEventElapsedTime_v2, which cuda.h maps the name to from
// 12.8 on), as an older one (only cuEventElapsedTime), and as a library that is no driver
// (PARC_FAKE_NOT_A_DRIVER: none of them). The drivers export every other entry point
// loadDriver binds, as stubs that are never called; the two timings differ so that the
// test sees which one was bound.
//
//===----------------------------------------------------------------------===//

extern "C" {

#ifdef PARC_FAKE_NOT_A_DRIVER
__attribute__((visibility("default"))) int parcNotADriver() { return 0; }
#else

#define PARC_FAKE_ENTRY_POINT(name)                                                        \
  __attribute__((visibility("default"))) int name() { return 0; }

PARC_FAKE_ENTRY_POINT(cuInit)
PARC_FAKE_ENTRY_POINT(cuDeviceGet)
PARC_FAKE_ENTRY_POINT(cuDeviceGetName)
PARC_FAKE_ENTRY_POINT(cuDeviceGetAttribute)
PARC_FAKE_ENTRY_POINT(cuDevicePrimaryCtxRetain)
PARC_FAKE_ENTRY_POINT(cuCtxSetCurrent)
PARC_FAKE_ENTRY_POINT(cuStreamCreate)
PARC_FAKE_ENTRY_POINT(cuStreamSynchronize)
PARC_FAKE_ENTRY_POINT(cuMemAlloc_v2)
PARC_FAKE_ENTRY_POINT(cuMemFree_v2)
PARC_FAKE_ENTRY_POINT(cuMemHostAlloc)
PARC_FAKE_ENTRY_POINT(cuMemFreeHost)
PARC_FAKE_ENTRY_POINT(cuMemcpyHtoDAsync_v2)
PARC_FAKE_ENTRY_POINT(cuMemcpyDtoHAsync_v2)
PARC_FAKE_ENTRY_POINT(cuMemcpyDtoDAsync_v2)
PARC_FAKE_ENTRY_POINT(cuMemcpy2DAsync_v2)
PARC_FAKE_ENTRY_POINT(cuModuleLoadData)
PARC_FAKE_ENTRY_POINT(cuModuleGetFunction)
PARC_FAKE_ENTRY_POINT(cuLaunchKernel)
PARC_FAKE_ENTRY_POINT(cuOccupancyMaxActiveBlocksPerMultiprocessor)
PARC_FAKE_ENTRY_POINT(cuEventCreate)
PARC_FAKE_ENTRY_POINT(cuEventRecord)
PARC_FAKE_ENTRY_POINT(cuEventSynchronize)
PARC_FAKE_ENTRY_POINT(cuStreamWaitEvent)
PARC_FAKE_ENTRY_POINT(cuStreamBeginCapture_v2)
PARC_FAKE_ENTRY_POINT(cuStreamEndCapture)
PARC_FAKE_ENTRY_POINT(cuGraphInstantiateWithFlags)
PARC_FAKE_ENTRY_POINT(cuGraphLaunch)
PARC_FAKE_ENTRY_POINT(cuGetErrorString)

__attribute__((visibility("default"))) int cuDriverGetVersion(int *version) {
#ifdef PARC_FAKE_DRIVER_HAS_V2
  *version = 12080;
#else
  *version = 12040;
#endif
  return 0;
}

__attribute__((visibility("default"))) int cuEventElapsedTime(float *ms, void *, void *) {
  *ms = 2.5f;
  return 0;
}

#ifdef PARC_FAKE_DRIVER_HAS_V2
__attribute__((visibility("default"))) int cuEventElapsedTime_v2(float *ms, void *, void *) {
  *ms = 1.5f;
  return 0;
}
#endif
#endif // PARC_FAKE_NOT_A_DRIVER

} // extern "C"
