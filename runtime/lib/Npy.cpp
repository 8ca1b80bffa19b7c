//===- Npy.cpp - numpy .npy reader and writer -----------------------------===//
//
// Implements readNpy and writeNpy. A .npy file is a magic string, a version, a
// little-endian header length, a Python dict literal describing the array
// ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }) padded so the
// data starts 64-byte aligned, and the raw element bytes. The reader accepts
// versions 1.0, 2.0 and 3.0 (3.0 only allows UTF-8 in the header, which this
// parser treats as bytes) and parses the dict strictly; the writer emits
// version 1.0 (2.0 for headers too long for a 16-bit length) through a
// temporary file that is renamed into place.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Npy.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .npy reader and writer assume a little-endian host"
#endif

namespace parc::rt {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr const char *kSupportedList =
    "parc reads float32, float16, int64, int32, bool";

Status fileError(const std::string &path, const std::string &cause) {
  return Status::error(path + ": " + cause);
}

/// The numpy name of a type code such as `f8` or `u1`, for messages.
std::string numpyTypeName(char kind, int size) {
  std::string bits = std::to_string(size * 8);
  switch (kind) {
  case 'f':
    return "float" + bits;
  case 'i':
    return "int" + bits;
  case 'u':
    return "uint" + bits;
  case 'c':
    return "complex" + bits;
  case 'b':
    return size == 1 ? "bool" : "bool" + bits;
  case 'U':
    return "str";
  case 'S':
    return "bytes";
  case 'O':
    return "object";
  case 'V':
    return "void";
  case 'M':
    return "datetime64";
  case 'm':
    return "timedelta64";
  default:
    return "";
  }
}

/// Maps a numpy type descriptor (`<f4`, `|b1`, ...) to a DType, or explains why
/// it cannot.
Status parseDescr(const std::string &descr, DType &dtype) {
  // A descriptor is a byte-order character, a kind character and an item size.
  size_t pos = 0;
  char order = '=';
  if (!descr.empty() && (descr[0] == '<' || descr[0] == '>' ||
                         descr[0] == '|' || descr[0] == '='))
    order = descr[pos++];
  char kind = pos < descr.size() ? descr[pos++] : '\0';
  int size = 0;
  bool sizeOk = pos < descr.size();
  for (; pos < descr.size(); ++pos) {
    if (descr[pos] < '0' || descr[pos] > '9' || size > 1000) {
      sizeOk = false;
      break;
    }
    size = size * 10 + (descr[pos] - '0');
  }
  std::string name = sizeOk ? numpyTypeName(kind, size) : "";
  std::optional<DType> mapped;
  if (sizeOk) {
    if (kind == 'f' && size == 4)
      mapped = DType::F32;
    else if (kind == 'f' && size == 2)
      mapped = DType::F16;
    else if (kind == 'i' && size == 8)
      mapped = DType::I64;
    else if (kind == 'i' && size == 4)
      mapped = DType::I32;
    else if (kind == 'b' && size == 1)
      mapped = DType::Bool;
  }
  if (!mapped) {
    std::string what = name.empty() ? descr : name + " (" + descr + ")";
    return Status::error("dtype " + what + " is not supported; " +
                         kSupportedList);
  }
  if (order == '>' && size > 1)
    return Status::error("big-endian data (" + descr +
                         ") is not supported; save the array as little-endian");
  dtype = *mapped;
  return Status::ok();
}

/// A strict parser for the header dict numpy writes.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text(text) {}

  /// Parses the dict into its three fields; the error is the cause, unprefixed.
  Status parse(std::string &descr, bool &fortranOrder, Shape &shape) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skipSpace();
    if (!consume('{'))
      return malformed("expected '{'");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return malformed("expected a quoted key");
      skipSpace();
      if (!consume(':'))
        return malformed("expected ':' after '" + key + "'");
      skipSpace();
      if (key == "descr") {
        if (peek() == '[' || peek() == '{')
          return Status::error("structured dtypes are not supported; " +
                               std::string(kSupportedList));
        if (!parseString(descr))
          return malformed("'descr' is not a string");
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (!parseBool(fortranOrder))
          return malformed("'fortran_order' is not True or False");
        haveOrder = true;
      } else if (key == "shape") {
        Status status = parseShape(shape);
        if (!status.isOk())
          return status;
        haveShape = true;
      } else {
        return malformed("unexpected key '" + key + "'");
      }
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return malformed("expected ',' or '}' after '" + key + "'");
    }
    skipSpace();
    if (pos != text.size())
      return malformed("unexpected text after the dict");
    if (!haveDescr)
      return malformed("missing 'descr'");
    if (!haveOrder)
      return malformed("missing 'fortran_order'");
    if (!haveShape)
      return malformed("missing 'shape'");
    return Status::ok();
  }

private:
  static Status malformed(const std::string &why) {
    return Status::error("malformed .npy header: " + why);
  }
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\r' || text[pos] == '\n'))
      ++pos;
  }
  bool parseString(std::string &value) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return false;
    size_t end = text.find(quote, pos + 1);
    if (end == std::string::npos)
      return false;
    value = text.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    return true;
  }
  bool parseBool(bool &value) {
    for (bool candidate : {true, false}) {
      const char *word = candidate ? "True" : "False";
      size_t length = std::strlen(word);
      if (text.compare(pos, length, word) == 0) {
        pos += length;
        value = candidate;
        return true;
      }
    }
    return false;
  }
  Status parseShape(Shape &shape) {
    shape.clear();
    if (!consume('('))
      return malformed("'shape' is not a tuple");
    while (true) {
      skipSpace();
      if (consume(')'))
        return Status::ok();
      if (peek() < '0' || peek() > '9')
        return malformed("'shape' holds something other than "
                         "non-negative integers");
      int64_t dim = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (dim > (std::numeric_limits<int64_t>::max() - 9) / 10)
          return malformed("a dim of 'shape' is too large");
        dim = dim * 10 + (text[pos++] - '0');
      }
      consume('L'); // Python 2 long literals.
      shape.push_back(dim);
      skipSpace();
      if (consume(','))
        continue;
      if (consume(')'))
        return Status::ok();
      return malformed("expected ',' or ')' in 'shape'");
    }
  }

  const std::string &text;
  size_t pos = 0;
};

/// Reads exactly `size` bytes or reports how many there were.
size_t readFully(std::FILE *file, char *buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    size_t n = std::fread(buffer + done, 1, size - done, file);
    if (n == 0)
      break;
    done += n;
  }
  return done;
}

/// Closes a FILE on scope exit.
struct FileCloser {
  std::FILE *file;
  ~FileCloser() {
    if (file)
      std::fclose(file);
  }
};

/// The header dict for `dtype` and `shape`, unpadded.
std::string headerDict(const char *descr, const Shape &shape) {
  std::string dict = "{'descr': '";
  dict += descr;
  dict += "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      dict += ", ";
    dict += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    dict += ',';
  dict += "), }";
  return dict;
}

/// Writes all of `size` bytes to `fd`, retrying short writes.
bool writeAll(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

/// A unique name for a temporary file next to `path`.
std::string temporaryPathFor(const std::string &path) {
  static std::atomic<unsigned> counter{0};
  size_t slash = path.rfind('/');
  std::string directory =
      slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return directory + "." + base + ".tmp-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

} // namespace

/// Reads a .npy array of `fileSize` bytes from `file`, positioned at its start; errors
/// name `path`.
static Status readNpyFrom(std::FILE *file, uint64_t fileSize, const std::string &path,
                          NpyArray &out) {
  char preamble[12];
  size_t got = readFully(file, preamble, 8);
  if (got < 8 || std::memcmp(preamble, kMagic, kMagicSize) != 0)
    return fileError(path, "not an .npy file (bad magic)");
  int major = static_cast<unsigned char>(preamble[6]);
  int minor = static_cast<unsigned char>(preamble[7]);
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    return fileError(
        path, "unsupported .npy format version " + std::to_string(major) + "." +
                  std::to_string(minor) + " (parc reads 1.0, 2.0 and 3.0)");
  size_t lengthBytes = major == 1 ? 2 : 4;
  if (readFully(file, preamble + 8, lengthBytes) != lengthBytes)
    return fileError(path, "truncated: the file ends inside the .npy header");
  uint64_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |=
        static_cast<uint64_t>(static_cast<unsigned char>(preamble[8 + i]))
        << (8 * i);
  uint64_t dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > fileSize)
    return fileError(path, "truncated: the file ends inside the .npy header");
  std::string header(headerLength, '\0');
  if (readFully(file, header.data(), headerLength) != headerLength)
    return fileError(path, "truncated: the file ends inside the .npy header");

  std::string descr;
  bool fortranOrder = false;
  Shape shape;
  Status parsed = HeaderParser(header).parse(descr, fortranOrder, shape);
  if (!parsed.isOk())
    return fileError(path, parsed.message());
  DType dtype = DType::F32;
  Status typed = parseDescr(descr, dtype);
  if (!typed.isOk())
    return fileError(path, typed.message());
  // A Fortran-order array of rank < 2 has the same layout as a C-order one.
  if (fortranOrder && shape.size() >= 2)
    return fileError(path, "Fortran-order arrays are not supported; save a "
                           "C-order array (numpy.ascontiguousarray)");

  uint64_t count = 1;
  for (int64_t dim : shape) {
    if (dim != 0 && count > std::numeric_limits<uint64_t>::max() / 16 /
                                static_cast<uint64_t>(dim))
      return fileError(path, "malformed .npy header: the shape " +
                                 formatShape(shape) + " is too large");
    count *= static_cast<uint64_t>(dim);
  }
  uint64_t dataBytes = count * dtypeSize(dtype);
  uint64_t available = fileSize - dataOffset;
  if (available < dataBytes)
    return fileError(path, "truncated: " + formatShape(shape) + " " +
                               dtypeName(dtype) + " needs " +
                               std::to_string(dataBytes) +
                               " bytes of data, the file holds " +
                               std::to_string(available));

  std::vector<char> data(dataBytes);
  if (readFully(file, data.data(), dataBytes) != dataBytes)
    return fileError(path, std::string("read error: ") +
                               (std::ferror(file) ? std::strerror(errno)
                                                  : "unexpected end of file"));
  if (dtype == DType::Bool) // numpy stores 0/1, but normalize anyway.
    for (char &byte : data)
      byte = byte != 0;
  out.dtype = dtype;
  out.shape = std::move(shape);
  out.data = std::move(data);
  return Status::ok();
}

Status readNpy(const std::string &path, NpyArray &out) {
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return fileError(path, std::string("cannot open: ") + std::strerror(errno));
  FileCloser closer{file};
  struct stat info;
  if (::fstat(::fileno(file), &info) != 0)
    return fileError(path, std::string("cannot stat: ") + std::strerror(errno));
  if (S_ISDIR(info.st_mode))
    return fileError(path, "cannot open: is a directory");
  return readNpyFrom(file, static_cast<uint64_t>(info.st_size), path, out);
}

Status readNpyBytes(const void *bytes, size_t size, const std::string &name,
                    NpyArray &out) {
  // fmemopen cannot open an empty buffer; an empty file has no magic either way.
  if (size == 0)
    return fileError(name, "not an .npy file (bad magic)");
  std::FILE *file = fmemopen(const_cast<void *>(bytes), size, "rb");
  if (!file)
    return fileError(name, std::string("cannot read: ") + std::strerror(errno));
  FileCloser closer{file};
  return readNpyFrom(file, size, name, out);
}

Status writeNpy(const std::string &path, const TensorRef &tensor) {
  const char *descr = nullptr;
  switch (tensor.dtype) {
  case DType::F32:
  case DType::BF16: // numpy has no bfloat16: written as float32, exactly.
    descr = "<f4";
    break;
  case DType::F16:
    descr = "<f2";
    break;
  case DType::I64:
    descr = "<i8";
    break;
  case DType::I32:
    descr = "<i4";
    break;
  case DType::Bool:
    descr = "|b1";
    break;
  }
  for (int64_t dim : tensor.shape)
    if (dim < 0)
      return fileError(path, "cannot write a tensor of shape " +
                                 formatShape(tensor.shape));

  // Pad the header with spaces and a newline so the data starts at a multiple
  // of 64 bytes, as numpy does.
  std::string dict = headerDict(descr, tensor.shape);
  size_t preambleSize = 10;
  if ((dict.size() + preambleSize + 1 + 63) / 64 * 64 - preambleSize > 65535)
    preambleSize = 12; // Format 2.0: a 32-bit header length.
  size_t total = (preambleSize + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - preambleSize - dict.size() - 1, ' ');
  dict += '\n';
  std::string head(kMagic, kMagicSize);
  head += static_cast<char>(preambleSize == 10 ? 1 : 2);
  head += '\0';
  for (size_t i = 0; i < preambleSize - 8; ++i)
    head += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
  head += dict;

  std::string temporary = temporaryPathFor(path);
  int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    return fileError(path,
                     std::string("cannot write: ") + std::strerror(errno));
  bool ok = writeAll(fd, head.data(), head.size());
  if (ok && tensor.dtype == DType::BF16) {
    // Widen in blocks; every bfloat16 value is exact in float32.
    const uint16_t *source = tensor.as<uint16_t>();
    std::vector<float> block;
    for (int64_t begin = 0, n = tensor.numElements(); ok && begin < n;
         begin += 65536) {
      int64_t count = std::min<int64_t>(65536, n - begin);
      block.resize(count);
      for (int64_t i = 0; i < count; ++i)
        block[i] = bf16ToFloat(source[begin + i]);
      ok = writeAll(fd, reinterpret_cast<const char *>(block.data()),
                    count * sizeof(float));
    }
  } else if (ok) {
    ok = writeAll(fd, static_cast<const char *>(tensor.data), tensor.bytes());
  }
  int savedErrno = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (ok && ::rename(temporary.c_str(), path.c_str()) != 0) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok) {
    ::unlink(temporary.c_str());
    return fileError(path,
                     std::string("cannot write: ") + std::strerror(savedErrno));
  }
  return Status::ok();
}

} // namespace parc::rt
