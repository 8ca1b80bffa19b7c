//===- LibraryDiscoveryTest.cpp - where NVIDIA's libraries are looked for -===//
//
// Issue 21, G: parc-run found cuBLASLt and NCCL only where the dynamic linker looks, not
// in the nvidia-* wheels PyTorch installs. These tests build fake installations in a
// temporary folder (a CUDA toolkit, a virtual environment with CUDA 12 and CUDA 13 wheels,
// ~/.local) and check the documented order, the override variable, and the errors. The
// "library" opened is the fake driver built for CudaApiTest, copied under other names.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/LibraryDiscovery.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <map>

using namespace parc::rt;
namespace fs = std::filesystem;

namespace {

class LibraryDiscoveryTest : public ::testing::Test {
protected:
  void SetUp() override {
    root = fs::temp_directory_path() /
           ("parc-discovery-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root);
  }
  void TearDown() override { fs::remove_all(root); }

  /// A copy of the fake driver library at `relative` under the temporary root.
  std::string install(const std::string &relative) {
    fs::path file = root / relative;
    fs::create_directories(file.parent_path());
    fs::copy_file(PARC_FAKE_DRIVER_NEW, file, fs::copy_options::overwrite_existing);
    return file.string();
  }
  EnvironmentLookup environment() {
    return [this](const char *name) -> const char * {
      auto it = variables.find(name);
      return it == variables.end() ? nullptr : it->second.c_str();
    };
  }

  /// A library no machine has, so the dynamic linker's step finds nothing.
  LibraryKind fake{"FakeLib", "PARC_FAKELIB", {"libparcfake.so.3", "libparcfake.so.2"},
                   {"cu13", "fakelib"}};
  fs::path root;
  std::map<std::string, std::string> variables;
};

TEST_F(LibraryDiscoveryTest, OrderIsLinkerThenToolkitThenPythonEnvironments) {
  std::string toolkit = install("toolkit/lib64/libparcfake.so.2");
  std::string wheel13 = install("venv/lib/python3.11/site-packages/nvidia/cu13/lib/libparcfake.so.3");
  std::string wheel12 = install("venv/lib/python3.11/site-packages/nvidia/fakelib/lib/libparcfake.so.2");
  std::string user = install("home/.local/lib/python3.12/site-packages/nvidia/fakelib/lib/libparcfake.so.2");
  variables = {{"CUDA_HOME", (root / "toolkit").string()},
               {"VIRTUAL_ENV", (root / "venv").string()},
               {"HOME", (root / "home").string()}};
  std::vector<std::string> expected = {"libparcfake.so.3", "libparcfake.so.2", toolkit,
                                       wheel13, wheel12, user};
  EXPECT_EQ(librarySearchOrder(fake, environment()), expected);
}

TEST_F(LibraryDiscoveryTest, TheNewestPythonsWheelsComeFirst) {
  std::string old = install("venv/lib/python3.9/site-packages/nvidia/fakelib/lib/libparcfake.so.2");
  std::string newer = install("venv/lib/python3.12/site-packages/nvidia/fakelib/lib/libparcfake.so.2");
  variables = {{"VIRTUAL_ENV", (root / "venv").string()}};
  std::vector<std::string> expected = {"libparcfake.so.3", "libparcfake.so.2", newer, old};
  EXPECT_EQ(librarySearchOrder(fake, environment()), expected);
}

TEST_F(LibraryDiscoveryTest, FindsTheLibraryInAVirtualEnvironmentsWheel) {
  std::string wheel = install("venv/lib/python3.11/site-packages/nvidia/cu13/lib/libparcfake.so.3");
  variables = {{"VIRTUAL_ENV", (root / "venv").string()}};
  OpenedLibrary library;
  std::string error;
  ASSERT_TRUE(openLibrary(fake, library, error, environment())) << error;
  EXPECT_EQ(library.path, wheel);
  EXPECT_NE(dlsym(library.handle, "cuInit"), nullptr);
}

TEST_F(LibraryDiscoveryTest, CondaEnvironmentsLibFolderIsSearched) {
  std::string conda = install("conda/lib/libparcfake.so.2");
  variables = {{"CONDA_PREFIX", (root / "conda").string()}};
  OpenedLibrary library;
  std::string error;
  ASSERT_TRUE(openLibrary(fake, library, error, environment())) << error;
  EXPECT_EQ(library.path, conda);
}

TEST_F(LibraryDiscoveryTest, TheOverrideVariableWinsAndIsNotSecondGuessed) {
  install("venv/lib/python3.11/site-packages/nvidia/cu13/lib/libparcfake.so.3");
  std::string chosen = install("elsewhere/libparcfake-custom.so");
  variables = {{"VIRTUAL_ENV", (root / "venv").string()}, {"PARC_FAKELIB", chosen}};
  OpenedLibrary library;
  std::string error;
  ASSERT_TRUE(openLibrary(fake, library, error, environment())) << error;
  EXPECT_EQ(library.path, chosen);

  // A wrong override is an error naming it, not a silent fall back to the wheel.
  variables["PARC_FAKELIB"] = (root / "missing.so").string();
  EXPECT_FALSE(openLibrary(fake, library, error, environment()));
  EXPECT_EQ(error.rfind("FakeLib (PARC_FAKELIB=" + (root / "missing.so").string() +
                            ") could not be loaded: ",
                        0),
            0u)
      << error;
}

TEST_F(LibraryDiscoveryTest, NothingFoundNamesWhatWasTriedAndTheVariable) {
  OpenedLibrary library;
  std::string error;
  EXPECT_FALSE(openLibrary(fake, library, error, environment()));
  EXPECT_EQ(library.handle, nullptr);
  EXPECT_NE(error.find("FakeLib was not found (libparcfake.so.3, libparcfake.so.2 through "
                       "the dynamic linker"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("set PARC_FAKELIB to its file"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST_F(LibraryDiscoveryTest, AFileThatDoesNotLoadIsReportedWithTheLoadersReason) {
  fs::path broken = root / "venv/lib/python3.11/site-packages/nvidia/cu13/lib/libparcfake.so.3";
  fs::create_directories(broken.parent_path());
  std::ofstream(broken) << "not an ELF file";
  variables = {{"VIRTUAL_ENV", (root / "venv").string()}};
  OpenedLibrary library;
  std::string error;
  EXPECT_FALSE(openLibrary(fake, library, error, environment()));
  EXPECT_NE(error.find(broken.string() + " did not load: "), std::string::npos) << error;
}

/// The folders PyTorch's wheels use, as pip lays them out: nvidia-cublas (CUDA 13) and
/// nvidia-nccl-cu13 in nvidia/cu13/lib and nvidia/nccl/lib; nvidia-cublas-cu12 and
/// nvidia-cuda-nvrtc-cu12 in nvidia/cublas/lib and nvidia/cuda_nvrtc/lib.
TEST_F(LibraryDiscoveryTest, PyTorchWheelLayoutsAreSearchedForEachLibrary) {
  std::string sitePackages = "venv/lib/python3.12/site-packages/nvidia/";
  std::string blas13 = install(sitePackages + "cu13/lib/libcublasLt.so.13");
  std::string blas12 = install(sitePackages + "cublas/lib/libcublasLt.so.12");
  std::string nccl = install(sitePackages + "nccl/lib/libnccl.so.2");
  std::string nvrtc12 = install(sitePackages + "cuda_nvrtc/lib/libnvrtc.so.12");
  variables = {{"VIRTUAL_ENV", (root / "venv").string()}};
  auto contains = [](const std::vector<std::string> &order, const std::string &file) {
    return std::find(order.begin(), order.end(), file) != order.end();
  };
  std::vector<std::string> blas = librarySearchOrder(cublasLtLibrary(), environment());
  EXPECT_TRUE(contains(blas, blas13));
  EXPECT_TRUE(contains(blas, blas12));
  EXPECT_TRUE(contains(librarySearchOrder(ncclLibrary(), environment()), nccl));
  EXPECT_TRUE(contains(librarySearchOrder(nvrtcLibrary(), environment()), nvrtc12));
}

} // namespace
