//===- LibraryDiscovery.h - finding NVIDIA's libraries at run time -*- C++ -*-===//
//
// parc links nothing of CUDA: NVRTC (parc-compile), cuBLASLt and NCCL (parc-run) are
// opened with dlopen when they are needed. They live in different places on different
// machines: a CUDA toolkit (/usr/local/cuda/lib64), a distribution's packages (the dynamic
// linker's cache), or the `nvidia-*` Python wheels PyTorch installs (CUDA 12 wheels in
// site-packages/nvidia/<library>/lib, CUDA 13 wheels in site-packages/nvidia/cu13/lib).
// Each library is looked for in one documented order (docs/cuda.md, "Finding the NVIDIA
// libraries"):
//
//   1. the file its override variable names (PARC_CUBLASLT, PARC_NCCL, PARC_NVRTC); when it
//      is set, nothing else is tried;
//   2. its sonames through the dynamic linker (LD_LIBRARY_PATH, the ld.so cache);
//   3. the CUDA toolkit: $CUDA_HOME, $CUDA_PATH, /usr/local/cuda, each's lib64 and
//      targets/<arch>-linux/lib;
//   4. Python environments' wheels: $VIRTUAL_ENV, $CONDA_PREFIX, ~/.local, /usr/local,
//      /usr, each's lib/python3*/{site,dist}-packages/nvidia/<folder>/lib.
//
// The first file that opens wins; the error for none lists every place tried.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIBRARYDISCOVERY_H
#define PARC_RUNTIME_LIBRARYDISCOVERY_H

#include <functional>
#include <string>
#include <vector>

namespace parc::rt {

/// One library parc opens at run time, and where to look for it.
struct LibraryKind {
  /// What the user knows it as, for messages ("cuBLASLt").
  std::string name;
  /// The environment variable naming its file, which overrides every other place.
  std::string overrideVariable;
  /// Its file names, the newest major version first ("libcublasLt.so.13", ...).
  std::vector<std::string> sonames;
  /// Folders under site-packages/nvidia/ of the wheels that ship it ("cu13", "cublas").
  std::vector<std::string> wheelFolders;
};

/// cuBLASLt, NCCL and NVRTC.
const LibraryKind &cublasLtLibrary();
const LibraryKind &ncclLibrary();
const LibraryKind &nvrtcLibrary();

/// Reads an environment variable (null when unset); tests pass their own.
using EnvironmentLookup = std::function<const char *(const char *)>;
EnvironmentLookup processEnvironment();

/// The candidates for `kind`, in the order they are tried: bare sonames (the dynamic
/// linker's search) and absolute paths of files that exist.
std::vector<std::string> librarySearchOrder(const LibraryKind &kind,
                                            const EnvironmentLookup &environment);

/// An opened library: the dlopen handle and the file it came from.
struct OpenedLibrary {
  void *handle = nullptr;
  std::string path;
};

/// Opens the first candidate of librarySearchOrder that loads. False with a one-line
/// `error` naming the library, what was tried, and the override variable.
bool openLibrary(const LibraryKind &kind, OpenedLibrary &library, std::string &error,
                 const EnvironmentLookup &environment = processEnvironment());

/// The file a dlopen handle was loaded from (the dynamic linker's answer for a soname).
std::string loadedLibraryPath(void *handle);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIBRARYDISCOVERY_H
