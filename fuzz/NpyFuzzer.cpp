//===- NpyFuzzer.cpp - fuzz the .npy reader -------------------------------===//
//
// Input: the bytes of a .npy file. readNpyBytes must either read an array whose data is
// exactly its shape's size, or refuse it with a message naming the file.
//
//===----------------------------------------------------------------------===//

#include "FuzzCheck.h"

#include "parc/Runtime/Npy.h"

using namespace parc::rt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  NpyArray array;
  Status status = readNpyBytes(data, size, "input.npy", array);
  if (!status.isOk()) {
    FUZZ_CHECK(::parc::fuzz::isErrorMessage(status.message()), status.message());
    FUZZ_CHECK(status.message().rfind("input.npy: ", 0) == 0, status.message());
    ::parc::fuzz::refused();
    return 0;
  }
  TensorRef ref = array.ref();
  FUZZ_CHECK(ref.bytes() == array.data.size(), formatShape(array.shape));
  FUZZ_CHECK(array.data.size() <= size, "more data than the file holds");
  ::parc::fuzz::accepted();
  return 0;
}
