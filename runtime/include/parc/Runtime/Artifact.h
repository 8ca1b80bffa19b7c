//===- Artifact.h - a loaded .parc artifact ---------------------*- C++ -*-===//
//
// Maps an artifact file read-only, checks its header, manifest checksum and every index in
// its programs, and hands out the manifest and weight bytes without copying them; a rank
// checks the checksums of the weight shards it maps before it runs (verifyWeights).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_ARTIFACT_H
#define PARC_RUNTIME_ARTIFACT_H

#include "parc/Runtime/Status.h"
#include "parc/Runtime/TensorRef.h"

#include <cstdint>
#include <map>
#include <memory>
#include <vector>
#include <string>

namespace parc::artifact {
class Manifest;
class TensorType;
} // namespace parc::artifact

namespace parc::rt {

/// The runtime dtype of a manifest type.
DType toDType(int protoDType);
/// The shape of a manifest type.
Shape toShape(const parc::artifact::TensorType &type);
/// The bytes a tensor of `type` takes; false for a negative dim or a size that does not
/// fit in 64 bits (a corrupt manifest must not wrap a bounds check around).
bool tensorBytes(const parc::artifact::TensorType &type, uint64_t &bytes);

class Artifact {
public:
  ~Artifact();
  Artifact(const Artifact &) = delete;
  Artifact &operator=(const Artifact &) = delete;

  /// Opens and validates `path`; on failure `status` names the file and the cause.
  static std::unique_ptr<Artifact> open(const std::string &path, Status &status);

  const parc::artifact::Manifest &manifest() const { return *manifestProto; }
  const std::string &path() const { return filePath; }
  /// The CRC-32 of the manifest (which holds every weight shard's CRC-32C): two ranks of
  /// a run across machines check that they hold the same artifact by comparing it.
  uint32_t manifestChecksum() const { return manifestCrc32; }
  /// The bytes of weight shard `index` in the mapped file (or, for a shard stored without
  /// them, the seeded pseudo-random values made up when the artifact was opened).
  const void *weightData(int index) const;

  /// Checks the CRC-32C of every weight shard rank `rank`'s program maps (each once);
  /// the error names the first corrupt weight and the artifact.
  Status verifyWeights(int rank) const;

private:
  Artifact() = default;
  Status validate();

  std::string filePath;
  void *mapping = nullptr;
  size_t mappingSize = 0;
  uint32_t manifestCrc32 = 0;
  const char *data = nullptr;
  std::unique_ptr<parc::artifact::Manifest> manifestProto;
  /// Made-up bytes of shards stored without theirs, by shard index.
  std::map<int, std::vector<char>> randomShards;
};

} // namespace parc::rt

#endif // PARC_RUNTIME_ARTIFACT_H
