//===- NpyTest.cpp - the .npy reader and writer ---------------------------===//
//
// Round trips every element type, checks the exact bytes the writer emits,
// reads files in the forms numpy writes (versions 1.0/2.0/3.0, varied spacing
// and key order), checks each error the reader reports, and that writes are
// atomic (no partial or temporary file left).
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Npy.h"
#include "TestUtils.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace parc::rt;
using namespace parc::rt::test;

namespace {

class NpyTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "parc-npy-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    directory = pattern;
  }
  void TearDown() override {
    for (const std::string &name : listDirectory())
      ::unlink((directory + "/" + name).c_str());
    ::rmdir(directory.c_str());
  }

  std::string path(const std::string &name) const {
    return directory + "/" + name;
  }

  std::vector<std::string> listDirectory() const {
    std::vector<std::string> names;
    if (DIR *dir = ::opendir(directory.c_str())) {
      while (dirent *entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..")
          names.push_back(name);
      }
      ::closedir(dir);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  /// Writes raw bytes to a file.
  void writeBytes(const std::string &name, const std::string &bytes) {
    std::ofstream file(path(name), std::ios::binary);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  std::string readBytes(const std::string &name) {
    std::ifstream file(path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(file), {});
  }

  /// A .npy file: magic, version, header length, `header` padded with spaces
  /// and a newline to a multiple of 64 bytes, then `data`.
  static std::string npyFile(const std::string &header, const std::string &data,
                             int major = 1) {
    size_t preamble = major == 1 ? 10 : 12;
    std::string padded = header;
    while ((preamble + padded.size() + 1) % 64 != 0)
      padded += ' ';
    padded += '\n';
    std::string bytes = "\x93NUMPY";
    bytes += static_cast<char>(major);
    bytes += '\0';
    for (size_t i = 0; i < preamble - 8; ++i)
      bytes += static_cast<char>((padded.size() >> (8 * i)) & 0xff);
    return bytes + padded + data;
  }

  /// Reads a file expecting failure, returning the message.
  std::string readError(const std::string &name) {
    NpyArray array;
    Status status = readNpy(path(name), array);
    EXPECT_FALSE(status.isOk()) << name;
    return status.message();
  }

  std::string directory;
};

TEST_F(NpyTest, RoundTripsEveryNumpyType) {
  for (DType type :
       {DType::F32, DType::F16, DType::I64, DType::I32, DType::Bool}) {
    for (const Shape &shape :
         std::vector<Shape>{{2, 3}, {5}, {}, {0, 3}, {2, 1, 4}}) {
      std::vector<double> values(numElements(shape));
      for (size_t i = 0; i < values.size(); ++i)
        values[i] = type == DType::Bool ? i % 3 == 0 : double(i) - 2.5;
      Tensor tensor = make(type, shape, values);
      std::string file = path(std::string("t_") + dtypeName(type) + ".npy");
      ASSERT_TRUE(writeNpy(file, tensor.ref()).isOk());
      NpyArray array;
      Status status = readNpy(file, array);
      ASSERT_TRUE(status.isOk()) << status.message();
      EXPECT_EQ(array.dtype, type);
      EXPECT_EQ(array.shape, shape);
      EXPECT_EQ(array.data, tensor.bytes)
          << dtypeName(type) << " " << formatShape(shape);
    }
  }
}

TEST_F(NpyTest, WritesBFloat16AsFloat32) {
  Tensor tensor = make(DType::BF16, {3}, {1.5, -2, 0.0078125});
  ASSERT_TRUE(writeNpy(path("bf.npy"), tensor.ref()).isOk());
  NpyArray array;
  ASSERT_TRUE(readNpy(path("bf.npy"), array).isOk());
  EXPECT_EQ(array.dtype, DType::F32);
  EXPECT_EQ(array.shape, (Shape{3}));
  std::vector<float> values(3);
  std::memcpy(values.data(), array.data.data(), 12);
  EXPECT_EQ(values, (std::vector<float>{1.5f, -2.0f, 0.0078125f}));
}

TEST_F(NpyTest, WritesNumpysHeaderLayout) {
  Tensor tensor = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  ASSERT_TRUE(writeNpy(path("a.npy"), tensor.ref()).isOk());
  std::string bytes = readBytes("a.npy");
  std::string expectedHeader =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  // numpy pads the header to 128 bytes here: 10 + 59 + 58 spaces + newline.
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]) +
                256 * static_cast<unsigned char>(bytes[9]),
            128 - 10);
  EXPECT_EQ(bytes.substr(10, expectedHeader.size()), expectedHeader);
  EXPECT_EQ(bytes.substr(10 + expectedHeader.size(), 58), std::string(58, ' '));
  EXPECT_EQ(bytes[127], '\n');
  EXPECT_EQ(bytes.substr(128), std::string(tensor.bytes.data(), 24));

  Tensor vector = i64({4}, {1, 2, 3, 4});
  ASSERT_TRUE(writeNpy(path("v.npy"), vector.ref()).isOk());
  EXPECT_NE(readBytes("v.npy").find("'descr': '<i8', 'fortran_order': False, "
                                    "'shape': (4,), }"),
            std::string::npos);
  Tensor flag = boolean({}, {1});
  ASSERT_TRUE(writeNpy(path("s.npy"), flag.ref()).isOk());
  EXPECT_NE(readBytes("s.npy").find("'descr': '|b1', 'fortran_order': False, "
                                    "'shape': (), }"),
            std::string::npos);
}

TEST_F(NpyTest, ReadsOtherVersionsAndSpellings) {
  std::string data(12, '\0');
  int32_t values[3] = {7, -8, 9};
  std::memcpy(data.data(), values, 12);
  writeBytes("v2.npy", npyFile("{'descr': '<i4', 'fortran_order': False, "
                               "'shape': (3,), }",
                               data, 2));
  writeBytes("v3.npy", npyFile("{'descr': '<i4', 'fortran_order': False, "
                               "'shape': (3,), }",
                               data, 3));
  writeBytes(
      "terse.npy",
      npyFile("{'shape':(3,),'fortran_order':False,'descr':'<i4'}", data));
  writeBytes("py2.npy",
             npyFile("{\"descr\": \"<i4\", \"fortran_order\": False, "
                     "\"shape\": (3L,)}",
                     data));
  for (const char *name : {"v2.npy", "v3.npy", "terse.npy", "py2.npy"}) {
    NpyArray array;
    Status status = readNpy(path(name), array);
    ASSERT_TRUE(status.isOk()) << name << ": " << status.message();
    EXPECT_EQ(array.dtype, DType::I32);
    EXPECT_EQ(array.shape, (Shape{3}));
    EXPECT_EQ(std::string(array.data.begin(), array.data.end()), data) << name;
  }
  // Fortran order is harmless for 1-D arrays.
  writeBytes("f1.npy", npyFile("{'descr': '<i4', 'fortran_order': True, "
                               "'shape': (3,), }",
                               data));
  NpyArray array;
  EXPECT_TRUE(readNpy(path("f1.npy"), array).isOk());
}

TEST_F(NpyTest, MissingFile) {
  std::string message = readError("absent.npy");
  EXPECT_EQ(message,
            path("absent.npy") + ": cannot open: No such file or directory");
}

TEST_F(NpyTest, BadMagic) {
  writeBytes("text.npy", "hello, this is not numpy data at all");
  EXPECT_EQ(readError("text.npy"),
            path("text.npy") + ": not an .npy file (bad magic)");
  writeBytes("short.npy", "\x93NUM");
  EXPECT_EQ(readError("short.npy"),
            path("short.npy") + ": not an .npy file (bad magic)");
}

TEST_F(NpyTest, UnsupportedDTypes) {
  std::string data(64, '\0');
  writeBytes("f8.npy", npyFile("{'descr': '<f8', 'fortran_order': False, "
                               "'shape': (2,), }",
                               data));
  EXPECT_EQ(readError("f8.npy"),
            path("f8.npy") + ": dtype float64 (<f8) is not supported; parc "
                             "reads float32, float16, int64, int32, bool");
  writeBytes("u1.npy", npyFile("{'descr': '|u1', 'fortran_order': False, "
                               "'shape': (2,), }",
                               data));
  EXPECT_NE(readError("u1.npy").find("dtype uint8 (|u1) is not supported"),
            std::string::npos);
  writeBytes("rec.npy", npyFile("{'descr': [('a', '<f4')], 'fortran_order': "
                                "False, 'shape': (2,), }",
                                data));
  EXPECT_NE(readError("rec.npy").find("structured dtypes are not supported"),
            std::string::npos);
}

TEST_F(NpyTest, FortranOrderAndBigEndian) {
  std::string data(24, '\0');
  writeBytes("fortran.npy", npyFile("{'descr': '<f4', 'fortran_order': True, "
                                    "'shape': (2, 3), }",
                                    data));
  EXPECT_NE(readError("fortran.npy")
                .find(path("fortran.npy") +
                      ": Fortran-order arrays are not supported"),
            std::string::npos);
  writeBytes("big.npy", npyFile("{'descr': '>f4', 'fortran_order': False, "
                                "'shape': (2, 3), }",
                                data));
  EXPECT_NE(readError("big.npy").find(
                path("big.npy") + ": big-endian data (>f4) is not supported"),
            std::string::npos);
}

TEST_F(NpyTest, TruncatedFiles) {
  writeBytes("data.npy", npyFile("{'descr': '<f4', 'fortran_order': False, "
                                 "'shape': (2, 3), }",
                                 std::string(20, '\0')));
  EXPECT_EQ(readError("data.npy"),
            path("data.npy") + ": truncated: 2x3 f32 needs 24 bytes of data, "
                               "the file holds 20");
  std::string whole = npyFile("{'descr': '<f4', 'fortran_order': False, "
                              "'shape': (2, 3), }",
                              "");
  writeBytes("header.npy", whole.substr(0, 30));
  EXPECT_EQ(readError("header.npy"),
            path("header.npy") +
                ": truncated: the file ends inside the .npy header");
}

TEST_F(NpyTest, MalformedHeaders) {
  std::string data(8, '\0');
  struct Case {
    const char *header;
    const char *cause;
  };
  std::vector<Case> cases = {
      {"{'descr': '<f4', 'fortran_order': False}", "missing 'shape'"},
      {"{'descr': '<f4', 'shape': (2,)}", "missing 'fortran_order'"},
      {"not a dict", "expected '{'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }",
       "'shape' holds something other than non-negative integers"},
      {"{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,), }",
       "'fortran_order' is not True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
       "unexpected key 'x'"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}",
       "expected ',' or '}' after 'descr'"},
  };
  for (const Case &c : cases) {
    writeBytes("bad.npy", npyFile(c.header, data));
    EXPECT_EQ(readError("bad.npy"),
              path("bad.npy") + ": malformed .npy header: " + c.cause)
        << c.header;
  }
  writeBytes("v9.npy", npyFile("{}", "", 9));
  EXPECT_NE(readError("v9.npy").find("unsupported .npy format version 9.0"),
            std::string::npos);
}

TEST_F(NpyTest, WritesAreAtomic) {
  // Overwriting replaces the whole file and leaves no temporary behind.
  Tensor big = randomF32({1000}, 81), small = f32({1}, {42});
  ASSERT_TRUE(writeNpy(path("out.npy"), big.ref()).isOk());
  ASSERT_TRUE(writeNpy(path("out.npy"), small.ref()).isOk());
  EXPECT_EQ(listDirectory(), (std::vector<std::string>{"out.npy"}));
  NpyArray array;
  ASSERT_TRUE(readNpy(path("out.npy"), array).isOk());
  EXPECT_EQ(array.shape, (Shape{1}));

  // A write that cannot complete leaves neither the target nor a temporary.
  Status missingDirectory = writeNpy(path("no/such/dir.npy"), small.ref());
  ASSERT_FALSE(missingDirectory.isOk());
  EXPECT_EQ(missingDirectory.message(),
            path("no/such/dir.npy") +
                ": cannot write: No such file or directory");
  ASSERT_EQ(::mkdir(path("taken").c_str(), 0755), 0);
  Status onDirectory = writeNpy(path("taken"), small.ref());
  EXPECT_FALSE(onDirectory.isOk());
  ::rmdir(path("taken").c_str());
  EXPECT_EQ(listDirectory(), (std::vector<std::string>{"out.npy"}));
}

TEST_F(NpyTest, ReadingADirectoryFails) {
  ASSERT_EQ(::mkdir(path("dir.npy").c_str(), 0755), 0);
  EXPECT_NE(readError("dir.npy").find("cannot open"), std::string::npos);
  ::rmdir(path("dir.npy").c_str());
}

} // namespace
