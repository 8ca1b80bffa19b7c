# lit configuration of the parc test suite.
#
# Tests are .mlir files (run through parc-opt) and .py files that build an ONNX model with
# onnx.helper or torch.onnx.export and run it through parc-compile. Substitutions:
#   %python   the project's Python (.venv) with the pinned packages
#   %models   the folder of test-model generators (test/models)
import os

import lit.formats

config.name = "parc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".py"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "models", "pylib", "conformance"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.parc_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.parc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])]
)
# Keep PyTorch and friends to the machine's two cores and quiet.
config.environment["OMP_NUM_THREADS"] = "1"
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"
config.environment["PYTHONPATH"] = os.pathsep.join(
    [os.path.join(config.parc_src_root, "test", d) for d in ("pylib", "models")]
)

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%models", os.path.join(config.parc_src_root, "test", "models")))
config.substitutions.append(("%pylib", os.path.join(config.parc_src_root, "test", "pylib")))
config.substitutions.append(("%src", config.parc_src_root))
config.substitutions.append(("%parc_bin", config.parc_tools_dir))

# CUDA on this machine, for the tests of the CUDA target (reported UNSUPPORTED without):
#   nvrtc        libnvrtc can be loaded (parc-compile --target=cuda compiles kernels with it)
#   nvcc         the CUDA compiler (%nvcc), to compile the emitted kernels independently
#   cuda-driver  the NVIDIA driver (libcuda.so.1) is installed
#   cuda-toolkit the toolkit's headers and libraries (%cuda_home): cuda.h, cublasLt.h,
#                nccl.h, the driver stub, libcublasLt and libnccl
import ctypes
import shutil


def _loadable(*names):
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            pass
    return False


# Runs across machines through Open MPI's launcher and a Redis store (Debian's openmpi-bin
# and redis-server; scripts/setup.sh installs both).
for _tool in ("mpirun", "redis-server"):
    if shutil.which(_tool):
        config.available_features.add(_tool)

# Why each CUDA feature is missing, for the summary scripts/test.sh prints
# (test/cuda_test_summary.py reads it from cuda-features.txt).
_missing = {}
if _loadable("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so", "/usr/local/cuda/lib64/libnvrtc.so"):
    config.available_features.add("nvrtc")
else:
    _missing["nvrtc"] = "libnvrtc (the CUDA toolkit's runtime compiler) cannot be loaded"
_nvcc = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None)
if _nvcc:
    config.available_features.add("nvcc")
    config.substitutions.append(("%nvcc", _nvcc))
else:
    _missing["nvcc"] = "nvcc is neither on PATH nor in /usr/local/cuda/bin"
# cuobjdump: the toolkit's, or the nvidia-cuda-cuobjdump wheel's in the project's .venv.
_cuobjdump = shutil.which("cuobjdump")
for _candidate in [os.path.join(os.path.dirname(_nvcc), "cuobjdump")] if _nvcc else []:
    _cuobjdump = _cuobjdump or (_candidate if os.path.exists(_candidate) else None)
if not _cuobjdump:
    import glob
    _wheel = glob.glob(os.path.join(config.parc_src_root, ".venv", "lib", "python3*",
                                    "site-packages", "nvidia", "cu*", "bin", "cuobjdump"))
    _cuobjdump = _wheel[0] if _wheel else None
if _cuobjdump:
    config.available_features.add("cuobjdump")
    config.substitutions.append(("%cuobjdump", _cuobjdump))
else:
    _missing["cuobjdump"] = "cuobjdump is neither on PATH, next to nvcc, nor in .venv"
if _loadable("libcuda.so.1"):
    config.available_features.add("cuda-driver")
else:
    _missing["cuda-driver"] = "no NVIDIA driver (libcuda.so.1) is installed"

_cuda_home = os.environ.get("CUDA_HOME", "/usr/local/cuda")
_toolkit_files = ("include/cuda.h", "include/cublasLt.h", "include/nccl.h",
                  "lib64/stubs/libcuda.so", "lib64/libcublasLt.so", "lib64/libnccl.so")
_absent = [p for p in _toolkit_files if not os.path.exists(os.path.join(_cuda_home, p))]
if not _absent:
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%cuda_home", _cuda_home))
else:
    _missing["cuda-toolkit"] = "%s lacks %s" % (_cuda_home, ", ".join(_absent))

os.makedirs(config.test_exec_root, exist_ok=True)
with open(os.path.join(config.test_exec_root, "cuda-features.txt"), "w") as _file:
    for _feature in ("nvrtc", "nvcc", "cuobjdump", "cuda-driver", "cuda-toolkit"):
        _file.write("%s: %s\n" % (_feature, _missing.get(_feature, "available")))
