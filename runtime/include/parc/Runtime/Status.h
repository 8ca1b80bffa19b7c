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

/// `message` with its control characters written as escapes (`\n`, `\t`, `\x1b`), so that
/// what a message quotes (a flag, a file or node name, a header read from a file) cannot
/// break it over lines or drive the terminal. Both tools print every error through it.
inline std::string printableOneLine(const std::string &message) {
  static const char hex[] = "0123456789abcdef";
  std::string line;
  line.reserve(message.size());
  for (char c : message) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      line += c;
    } else if (c == '\n') {
      line += "\\n";
    } else if (c == '\t') {
      line += "\\t";
    } else if (c == '\r') {
      line += "\\r";
    } else {
      line += "\\x";
      line += hex[byte >> 4];
      line += hex[byte & 15];
    }
  }
  return line;
}

/// Returns from the enclosing function when `expr` is an error.
#define PARC_RETURN_IF_ERROR(expr)                                             \
  do {                                                                         \
    ::parc::rt::Status parcStatus = (expr);                                    \
    if (!parcStatus.isOk())                                                    \
      return parcStatus;                                                       \
  } while (false)

} // namespace parc::rt

#endif // PARC_RUNTIME_STATUS_H
