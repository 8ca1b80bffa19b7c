//===- GlooError.h - Gloo exceptions as runtime messages --------*- C++ -*-===//
//
// Gloo reports failures (timeouts, closed connections) by throwing; the
// communication layer turns them into Status messages without Gloo's
// source-location prefixes.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMM_GLOOERROR_H
#define PARC_RUNTIME_COMM_GLOOERROR_H

#include <exception>
#include <string>

namespace parc::rt::comm {

/// The message of `error` without the `[file.cc:123] ` prefixes Gloo puts in
/// front.
std::string glooMessage(const std::exception &error);

/// A duration in seconds as messages print it: `2 s`, `0.5 s`.
std::string formatSeconds(double seconds);

} // namespace parc::rt::comm

#endif // PARC_RUNTIME_COMM_GLOOERROR_H
