//===- Status.h - errors the runtime reports --------------------*- C++ -*-===//
//
// A success-or-message result. The runtime reports every problem (a bad artifact, a bad input,
// an out-of-range index at run time) as a Status with a one-line message naming the cause.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_STATUS_H
#define PARC_RUNTIME_STATUS_H

#include <string>
#include <utility>

namespace parc::rt {

class [[nodiscard]] Status {
public:
  /// A success.
  Status() = default;
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }

  bool isOk() const { return !failed; }
  explicit operator bool() const { return isOk(); }
  const std::string &message() const { return text; }

private:
  explicit Status(std::string message) : failed(true), text(std::move(message)) {}
  bool failed = false;
  std::string text;
};

/// Returns from the enclosing function when `expr` is an error.
#define PARC_RETURN_IF_ERROR(expr)                                             \
  do {                                                                         \
    ::parc::rt::Status parcStatus = (expr);                                    \
    if (!parcStatus.isOk())                                                    \
      return parcStatus;                                                       \
  } while (false)

} // namespace parc::rt

#endif // PARC_RUNTIME_STATUS_H
