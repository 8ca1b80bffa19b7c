//===- Nvrtc.cpp - compiling generated kernels at compile time ------------===//

#include "parc/Target/Cuda/Nvrtc.h"

#include "parc/Runtime/LibraryDiscovery.h"

#include <cstddef>
#include <dlfcn.h>
#include <vector>

using namespace mlir::parc;

namespace {

/// The NVRTC entry points parc uses (nvrtc.h's signatures; nvrtcResult is an int enum).
struct NvrtcLibrary {
  using Program = void *;
  int (*createProgram)(Program *, const char *, const char *, int, const char *const *,
                       const char *const *) = nullptr;
  int (*compileProgram)(Program, int, const char *const *) = nullptr;
  int (*getProgramLogSize)(Program, size_t *) = nullptr;
  int (*getProgramLog)(Program, char *) = nullptr;
  int (*getPTXSize)(Program, size_t *) = nullptr;
  int (*getPTX)(Program, char *) = nullptr;
  int (*getCUBINSize)(Program, size_t *) = nullptr;
  int (*getCUBIN)(Program, char *) = nullptr;
  int (*destroyProgram)(Program *) = nullptr;
  const char *(*getErrorString)(int) = nullptr;
  std::string loadError;

  NvrtcLibrary() {
    parc::rt::OpenedLibrary library;
    if (!parc::rt::openLibrary(parc::rt::nvrtcLibrary(), library, loadError)) {
      loadError += " (parc-compile --target=cuda compiles kernels with NVRTC)";
      return;
    }
    void *handle = library.handle;
    auto bind = [&](auto &function, const char *symbol) {
      function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(
          dlsym(handle, symbol));
      if (!function && loadError.empty())
        loadError = std::string("libnvrtc.so has no ") + symbol;
    };
    bind(createProgram, "nvrtcCreateProgram");
    bind(compileProgram, "nvrtcCompileProgram");
    bind(getProgramLogSize, "nvrtcGetProgramLogSize");
    bind(getProgramLog, "nvrtcGetProgramLog");
    bind(getPTXSize, "nvrtcGetPTXSize");
    bind(getPTX, "nvrtcGetPTX");
    bind(getCUBINSize, "nvrtcGetCUBINSize");
    bind(getCUBIN, "nvrtcGetCUBIN");
    bind(destroyProgram, "nvrtcDestroyProgram");
    bind(getErrorString, "nvrtcGetErrorString");
  }

  /// Compiles for `target` (compute_XX gives PTX, sm_XX a cubin) into `out`.
  bool compile(const std::string &source, const std::string &name, const std::string &target,
               bool cubin, std::string &out, std::string &error) {
    Program program = nullptr;
    if (int status = createProgram(&program, source.c_str(), name.c_str(), 0, nullptr, nullptr)) {
      error = std::string("nvrtcCreateProgram: ") + getErrorString(status);
      return false;
    }
    std::string option = "--gpu-architecture=" + target;
    const char *options[] = {option.c_str(), "--std=c++17", "-default-device"};
    int status = compileProgram(program, 3, options);
    if (status) {
      size_t size = 0;
      getProgramLogSize(program, &size);
      std::string log(size, '\0');
      getProgramLog(program, log.data());
      error = name + ": NVRTC failed for " + target + ": " + getErrorString(status) + "\n" + log;
      destroyProgram(&program);
      return false;
    }
    size_t size = 0;
    (cubin ? getCUBINSize : getPTXSize)(program, &size);
    out.assign(size, '\0');
    (cubin ? getCUBIN : getPTX)(program, out.data());
    destroyProgram(&program);
    return true;
  }
};

} // namespace

bool mlir::parc::compileWithNvrtc(const std::string &source, const std::string &name,
                                  const std::string &arch, CompiledKernel &compiled,
                                  std::string &error) {
  static NvrtcLibrary nvrtc;
  if (!nvrtc.loadError.empty()) {
    error = nvrtc.loadError;
    return false;
  }
  if (arch.rfind("sm_", 0) != 0) {
    error = "--cuda-arch=" + arch + ": expected sm_<major><minor>, e.g. sm_90";
    return false;
  }
  std::string virtualArch = "compute_" + arch.substr(3);
  return nvrtc.compile(source, name, virtualArch, false, compiled.ptx, error) &&
         nvrtc.compile(source, name, arch, true, compiled.cubin, error);
}
