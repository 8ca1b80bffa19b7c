//===- CudaDevice.cpp - finding a GPU for a --target=cuda artifact --------===//

#include "CudaDevice.h"

#include "parc/Runtime/LibraryDiscovery.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <string>

using namespace parc::rt;

Status parc::rt::countCudaDevices(int &devices) {
  devices = 0;
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver)
    return Status::error("no GPU was found: the NVIDIA driver (libcuda.so.1) is not installed");
  // The driver API's entry points (cuda.h): CUresult is an int, 0 on success.
  auto init = reinterpret_cast<int (*)(unsigned)>(dlsym(driver, "cuInit"));
  auto count = reinterpret_cast<int (*)(int *)>(dlsym(driver, "cuDeviceGetCount"));
  if (!init || !count)
    return Status::error("no GPU was found: libcuda.so.1 lacks cuInit or cuDeviceGetCount");
  if (int status = init(0))
    return Status::error("no GPU was found: cuInit failed with CUDA error " +
                         std::to_string(status));
  if (int status = count(&devices))
    return Status::error("no GPU was found: cuDeviceGetCount failed with CUDA error " +
                         std::to_string(status));
  if (devices == 0)
    return Status::error("no GPU was found: the NVIDIA driver sees no CUDA device");
  return Status::ok();
}

GpuPlacement parc::rt::placeRankOnGpu(int rank, int world, int devices) {
  GpuPlacement placement;
  if (devices <= 0)
    return placement;
  placement.ordinal = rank % devices;
  placement.stageThroughHost = world > devices;
  return placement;
}

bool parc::rt::reportCudaLibraries(std::ostream &out) {
  bool found = true;
  if (void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    out << "NVIDIA driver: " << loadedLibraryPath(driver);
    auto version = reinterpret_cast<int (*)(int *)>(dlsym(driver, "cuDriverGetVersion"));
    int cuda = 0;
    if (version && version(&cuda) == 0)
      out << " (CUDA " << cuda / 1000 << "." << cuda % 1000 / 10 << ")";
    out << "\n";
  } else {
    const char *why = dlerror();
    out << "NVIDIA driver: not found (" << (why ? why : "libcuda.so.1 did not load") << ")\n";
    found = false;
  }
  for (const LibraryKind *kind : {&cublasLtLibrary(), &ncclLibrary()}) {
    OpenedLibrary library;
    std::string error;
    if (openLibrary(*kind, library, error)) {
      out << kind->name << ": " << library.path << "\n";
    } else {
      out << kind->name << ": not found: " << error << "\n";
      found = false;
    }
  }
  return found;
}

bool parc::rt::cudaEmulatorRequested() {
  const char *value = std::getenv("PARC_CUDA_EMULATOR");
  return value && *value && std::strcmp(value, "0") != 0;
}
