//===- FuzzCheck.h - what every fuzz target asserts -------------*- C++ -*-===//
//
// A fuzz target fails on a crash, a hang or a sanitizer report, and also when the code
// under test breaks its own contract on bad input: an error must say something (both tools
// print it on one line, escaping what it quotes: printableOneLine in parc/Runtime/Status.h),
// and what is accepted must be consistent. FUZZ_CHECK aborts (a crash libFuzzer keeps) with
// the broken condition.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_FUZZ_FUZZCHECK_H
#define PARC_FUZZ_FUZZCHECK_H

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition, detail)                                                      \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d): %s\n", #condition, __FILE__,  \
                   __LINE__, std::string(detail).c_str());                                 \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)

namespace parc::fuzz {

/// How many inputs the code under test accepted and refused (FuzzMain prints them, so that
/// the regression tests show that the seeds get past the parsers).
struct Outcomes {
  size_t accepted = 0, refused = 0;
};
inline Outcomes &outcomes() {
  static Outcomes counts;
  return counts;
}
inline void accepted() { ++outcomes().accepted; }
inline void refused() { ++outcomes().refused; }

/// Whether `message` can be an error: not empty, and not ending in a newline of its own
/// (the tools add one).
inline bool isErrorMessage(const std::string &message) {
  return !message.empty() && message.back() != '\n';
}

} // namespace parc::fuzz

#endif // PARC_FUZZ_FUZZCHECK_H
