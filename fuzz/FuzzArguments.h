//===- FuzzArguments.h - a command line made of fuzz bytes ------*- C++ -*-===//
//
// The command-line fuzz targets read their input as arguments separated by NUL bytes,
// after a fixed program name: "--tp=2\0-o\0x.parc" is `prog --tp=2 -o x.parc`. At most
// 64 arguments are kept, so that an input of NULs cannot make a huge argv.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_FUZZ_FUZZARGUMENTS_H
#define PARC_FUZZ_FUZZARGUMENTS_H

#include <cstdint>
#include <string>
#include <vector>

namespace parc::fuzz {

class Arguments {
public:
  Arguments(const uint8_t *data, size_t size, const char *program) {
    words.push_back(program);
    std::string word;
    for (size_t i = 0; i < size && words.size() <= kMaxArguments; ++i) {
      if (data[i] == 0) {
        words.push_back(word);
        word.clear();
      } else {
        word.push_back(static_cast<char>(data[i]));
      }
    }
    if (!word.empty() && words.size() <= kMaxArguments)
      words.push_back(word);
    for (std::string &w : words)
      pointers.push_back(w.data());
    pointers.push_back(nullptr);
  }

  int argc() const { return static_cast<int>(words.size()); }
  char **argv() { return pointers.data(); }
  const std::vector<std::string> &all() const { return words; }

private:
  static constexpr size_t kMaxArguments = 64;
  std::vector<std::string> words;
  std::vector<char *> pointers;
};

} // namespace parc::fuzz

#endif // PARC_FUZZ_FUZZARGUMENTS_H
