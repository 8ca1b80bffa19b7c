//===- ArtifactFile.h - writing hand-made artifacts in tests ----*- C++ -*-===//
//
// Tests that need an artifact the compiler would not write (a corrupt one, a tiny CUDA one
// with hand-written kernels) build its manifest in code and write it here, with a correct
// header and checksum, as lib/Target/Artifact/ArtifactWriter.cpp lays files out.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_UNITTESTS_ARTIFACTFILE_H
#define PARC_RUNTIME_UNITTESTS_ARTIFACTFILE_H

#include "parc/Runtime/ArtifactFormat.h"

#include "parc/artifact/artifact.pb.h"

#include <cstring>
#include <fstream>
#include <string>

namespace parc::rt::test {

/// Writes `manifest` to `path` with a data region of `dataBytes` zero bytes (by default
/// the manifest's data_size), or of `data` when given.
inline void writeArtifactFile(const parc::artifact::Manifest &manifest, const std::string &path,
                              int64_t dataBytes = -1, const std::string &data = "") {
  std::string bytes = manifest.SerializeAsString();
  ArtifactHeader header{};
  std::memcpy(header.magic, kArtifactMagic, sizeof(header.magic));
  header.formatVersion = kArtifactFormatVersion;
  header.manifestCrc32 = crc32(bytes.data(), bytes.size());
  header.manifestSize = bytes.size();
  header.dataOffset = alignArtifactOffset(sizeof(header) + bytes.size());
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char *>(&header), sizeof(header));
  file.write(bytes.data(), bytes.size());
  std::string padding(header.dataOffset - sizeof(header) - bytes.size(), '\0');
  file.write(padding.data(), padding.size());
  std::string region = data;
  if (region.empty())
    region.assign(dataBytes >= 0 ? dataBytes : manifest.data_size(), '\0');
  file.write(region.data(), region.size());
}

inline void setTensorType(parc::artifact::TensorType *type, parc::artifact::DType dtype,
                          std::initializer_list<int64_t> shape) {
  type->set_dtype(dtype);
  for (int64_t dim : shape)
    type->add_shape(dim);
}

} // namespace parc::rt::test

#endif // PARC_RUNTIME_UNITTESTS_ARTIFACTFILE_H
