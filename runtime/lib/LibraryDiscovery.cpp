//===- LibraryDiscovery.cpp - finding NVIDIA's libraries at run time ------===//

#include "parc/Runtime/LibraryDiscovery.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <glob.h>
#include <link.h>
#include <sys/stat.h>

using namespace parc::rt;

const LibraryKind &parc::rt::cublasLtLibrary() {
  static const LibraryKind kind{"cuBLASLt",
                                "PARC_CUBLASLT",
                                {"libcublasLt.so.13", "libcublasLt.so.12"},
                                {"cu13", "cublas"}};
  return kind;
}

const LibraryKind &parc::rt::ncclLibrary() {
  static const LibraryKind kind{"NCCL", "PARC_NCCL", {"libnccl.so.2"}, {"nccl", "cu13"}};
  return kind;
}

const LibraryKind &parc::rt::nvrtcLibrary() {
  static const LibraryKind kind{"NVRTC",
                                "PARC_NVRTC",
                                {"libnvrtc.so.13", "libnvrtc.so.12"},
                                {"cu13", "cuda_nvrtc"}};
  return kind;
}

EnvironmentLookup parc::rt::processEnvironment() {
  return [](const char *name) { return std::getenv(name); };
}

namespace {

#if defined(__aarch64__)
constexpr const char *kToolkitTarget = "targets/sbsa-linux/lib";
#else
constexpr const char *kToolkitTarget = "targets/x86_64-linux/lib";
#endif

bool isFile(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

/// The files `pattern` (a glob) matches, the newest Python's first: in version order
/// (strverscmp: python3.12 after python3.9), reversed.
std::vector<std::string> matching(const std::string &pattern) {
  std::vector<std::string> files;
  glob_t found{};
  if (glob(pattern.c_str(), GLOB_NOSORT, nullptr, &found) == 0)
    for (size_t i = 0; i < found.gl_pathc; ++i)
      files.push_back(found.gl_pathv[i]);
  globfree(&found);
  std::sort(files.begin(), files.end(), [](const std::string &a, const std::string &b) {
    return strverscmp(a.c_str(), b.c_str()) > 0;
  });
  return files;
}

class SearchOrder {
public:
  void add(const std::string &candidate) {
    if (std::find(order.begin(), order.end(), candidate) == order.end())
      order.push_back(candidate);
  }
  void addFileIfPresent(const std::string &path) {
    if (isFile(path))
      add(path);
  }
  std::vector<std::string> take() { return std::move(order); }

private:
  std::vector<std::string> order;
};

} // namespace

std::vector<std::string> parc::rt::librarySearchOrder(const LibraryKind &kind,
                                                      const EnvironmentLookup &environment) {
  auto variable = [&](const char *name) -> std::string {
    const char *value = environment(name);
    return value ? value : "";
  };
  SearchOrder order;
  for (const std::string &soname : kind.sonames)
    order.add(soname);

  std::vector<std::string> toolkits;
  for (const char *name : {"CUDA_HOME", "CUDA_PATH"})
    if (std::string root = variable(name); !root.empty())
      toolkits.push_back(root);
  toolkits.push_back("/usr/local/cuda");
  for (const std::string &root : toolkits)
    for (const char *folder : {"lib64", kToolkitTarget})
      for (const std::string &soname : kind.sonames)
        order.addFileIfPresent(root + "/" + folder + "/" + soname);

  std::vector<std::string> prefixes;
  for (const char *name : {"VIRTUAL_ENV", "CONDA_PREFIX"})
    if (std::string prefix = variable(name); !prefix.empty())
      prefixes.push_back(prefix);
  if (std::string home = variable("HOME"); !home.empty())
    prefixes.push_back(home + "/.local");
  prefixes.push_back("/usr/local");
  prefixes.push_back("/usr");
  for (const std::string &prefix : prefixes) {
    for (const std::string &folder : kind.wheelFolders)
      for (const std::string &soname : kind.sonames)
        for (const char *packages : {"site-packages", "dist-packages"})
          for (const std::string &file : matching(prefix + "/lib/python3*/" + packages +
                                                  "/nvidia/" + folder + "/lib/" + soname))
            order.addFileIfPresent(file);
  }
  // Conda's CUDA packages put the libraries in the environment's own lib folder.
  if (std::string conda = variable("CONDA_PREFIX"); !conda.empty())
    for (const std::string &soname : kind.sonames)
      order.addFileIfPresent(conda + "/lib/" + soname);
  return order.take();
}

std::string parc::rt::loadedLibraryPath(void *handle) {
  struct link_map *map = nullptr;
  if (handle && dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name &&
      *map->l_name)
    return map->l_name;
  return "";
}

bool parc::rt::openLibrary(const LibraryKind &kind, OpenedLibrary &library,
                           std::string &error, const EnvironmentLookup &environment) {
  library = OpenedLibrary{};
  if (const char *chosen = environment(kind.overrideVariable.c_str()); chosen && *chosen) {
    if (!(library.handle = dlopen(chosen, RTLD_NOW | RTLD_LOCAL))) {
      const char *why = dlerror();
      error = kind.name + " (" + kind.overrideVariable + "=" + chosen +
              ") could not be loaded: " + (why ? why : "unknown error");
      return false;
    }
    library.path = loadedLibraryPath(library.handle);
    return true;
  }
  // Sonames go through the dynamic linker; a file that exists but does not load (a missing
  // dependency, another architecture) is reported with the loader's reason.
  std::string sonames, failures;
  for (const std::string &candidate : librarySearchOrder(kind, environment)) {
    if ((library.handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL))) {
      library.path = loadedLibraryPath(library.handle);
      if (library.path.empty())
        library.path = candidate;
      return true;
    }
    const char *why = dlerror();
    if (candidate.find('/') == std::string::npos)
      sonames += (sonames.empty() ? "" : ", ") + candidate;
    else
      failures += "; " + candidate + " did not load: " + (why ? why : "unknown error");
  }
  error = kind.name + " was not found (" + sonames +
          " through the dynamic linker, the CUDA toolkit and Python environments' nvidia "
          "wheels" + failures + "): install it, add its folder to LD_LIBRARY_PATH, or set " +
          kind.overrideVariable + " to its file";
  return false;
}
