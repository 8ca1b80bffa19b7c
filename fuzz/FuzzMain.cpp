//===- FuzzMain.cpp - run fuzz inputs without libFuzzer -------------------===//
//
// The main of a fuzz target in a build without libFuzzer (any compiler): runs
// LLVMFuzzerTestOneInput once on each file named on the command line, and on each file of
// each folder named. The test suite runs every target this way over its kept inputs
// (fuzz/regressions) and seeds, so a fixed crash stays fixed in every build.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool runFile(const std::filesystem::path &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                          std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  return true;
}

int main(int argc, char **argv) {
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path path(argv[i]);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(path)) {
      for (const auto &entry : std::filesystem::recursive_directory_iterator(path))
        if (entry.is_regular_file())
          files.push_back(entry.path());
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(path);
    }
    for (const auto &file : files) {
      if (!runFile(file))
        return 1;
      ++inputs;
    }
  }
  const parc::fuzz::Outcomes &counts = parc::fuzz::outcomes();
  std::printf("%s: ran %zu inputs: %zu accepted, %zu refused\n",
              argc > 0 ? argv[0] : "fuzz target", inputs, counts.accepted, counts.refused);
  return 0;
}
