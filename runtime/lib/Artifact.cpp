//===- Artifact.cpp - loading and validating .parc artifacts --------------===//

#include "parc/Runtime/Artifact.h"

#include "parc/Runtime/ArtifactFormat.h"
#include "parc/Runtime/ProcessMemory.h"

#include "SplitBlocks.h"

#include "parc/artifact/artifact.pb.h"

#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace parc::rt;
namespace pa = parc::artifact;

DType parc::rt::toDType(int protoDType) {
  switch (protoDType) {
  case pa::F16:
    return DType::F16;
  case pa::BF16:
    return DType::BF16;
  case pa::I64:
    return DType::I64;
  case pa::I32:
    return DType::I32;
  case pa::BOOL:
    return DType::Bool;
  default:
    return DType::F32;
  }
}

Shape parc::rt::toShape(const pa::TensorType &type) {
  return Shape(type.shape().begin(), type.shape().end());
}

Artifact::~Artifact() {
  if (mapping)
    munmap(mapping, mappingSize);
}

const void *Artifact::weightData(int index) const {
  if (manifestProto->weights(index).random())
    return randomShards.at(index).data();
  return data + manifestProto->weights(index).offset();
}

Status Artifact::verifyWeights(int rank) const {
  const pa::Manifest &manifest = *manifestProto;
  std::vector<bool> checked(manifest.weights_size(), false);
  for (const pa::Value &value : manifest.programs(rank).values()) {
    if (value.storage_case() != pa::Value::kWeight || checked[value.weight()])
      continue;
    checked[value.weight()] = true;
    const pa::WeightShard &shard = manifest.weights(value.weight());
    if (shard.random())
      continue;
    uint32_t computed = crc32c(weightData(value.weight()), shard.size());
    if (!shard.has_crc32c() || computed != shard.crc32c()) {
      char detail[64];
      std::snprintf(detail, sizeof(detail), " (CRC-32C %08x, the manifest says %08x)",
                    computed, shard.crc32c());
      return Status::error(filePath + ": corrupt artifact: weight '" + shard.name() +
                           "' does not match its checksum" + detail);
    }
  }
  return Status::ok();
}

/// A made-up value in [-0.05, 0.05) for element `element` of the whole weight whose name
/// hashes to `seed` (splitmix64 of the pair: any element can be made alone).
static float madeUpValue(uint64_t seed, uint64_t element) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (element + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (static_cast<float>(z >> 40) / static_cast<float>(1ull << 24) - 0.5f) * 0.1f;
}

/// Seeded pseudo-random values for a shard stored without bytes (--random-weights): floats
/// uniform in [-0.05, 0.05) (a trained transformer's weights are of that size), integers
/// and booleans zero. Each value depends only on the weight's name and the element's place
/// in the whole weight, so every rank, run and parallel layout makes up the same model (a
/// tensor-parallel shard gets the elements of the whole it holds).
static std::vector<char> makeUpShard(const pa::WeightShard &shard) {
  std::vector<char> bytes(shard.size(), 0);
  DType dtype = toDType(shard.type().dtype());
  if (!isFloat(dtype))
    return bytes;
  int64_t elementSize = dtypeSize(dtype);
  const std::string &name = shard.has_shard_of() ? shard.shard_of().weight() : shard.name();
  uint64_t seed = 0xcbf29ce484222325ull; // FNV-1a
  for (unsigned char c : name)
    seed = (seed ^ c) * 0x100000001b3ull;
  auto store = [&](int64_t local, uint64_t element) {
    float value = madeUpValue(seed, element);
    if (dtype == DType::F32) {
      std::memcpy(bytes.data() + local * 4, &value, 4);
    } else {
      uint16_t half = dtype == DType::F16 ? floatToHalf(value) : floatToBf16(value);
      std::memcpy(bytes.data() + local * 2, &half, 2);
    }
  };
  int64_t count = static_cast<int64_t>(shard.size()) / elementSize;
  if (!shard.has_shard_of()) {
    for (int64_t i = 0; i < count; ++i)
      store(i, static_cast<uint64_t>(i));
    return bytes;
  }
  // A tensor-parallel shard: the elements of the whole that it holds.
  SplitBlocks blocks(shard.shard_of(), shard.type().shape(), static_cast<int64_t>(shard.size()));
  int64_t partElements = blocks.partBytes / elementSize;
  for (int64_t o = 0; o < blocks.outer; ++o)
    for (int64_t g = 0; g < blocks.groups; ++g) {
      int64_t local = blocks.local(o, g) / elementSize;
      int64_t whole = blocks.whole(o, g, shard.shard_of().index()) / elementSize;
      for (int64_t e = 0; e < partElements; ++e)
        store(local + e, static_cast<uint64_t>(whole + e));
    }
  return bytes;
}

std::unique_ptr<Artifact> Artifact::open(const std::string &path,
                                         Status &status) {
  std::unique_ptr<Artifact> artifact(new Artifact());
  artifact->filePath = path;
  auto fail = [&](const std::string &message) {
    status = Status::error(path + ": " + message);
    return nullptr;
  };
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    return fail(std::string("cannot open the artifact: ") + std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail("not a regular file");
  }
  size_t size = static_cast<size_t>(info.st_size);
  if (size < sizeof(ArtifactHeader)) {
    ::close(fd);
    return fail("not a parc artifact (too short for a header)");
  }
  void *mapping = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapping == MAP_FAILED)
    return fail(std::string("cannot map the artifact: ") + std::strerror(errno));
  artifact->mapping = mapping;
  artifact->mappingSize = size;

  ArtifactHeader header;
  std::memcpy(&header, mapping, sizeof(header));
  if (std::memcmp(header.magic, kArtifactMagic, sizeof(header.magic)) != 0)
    return fail("not a parc artifact (bad magic bytes)");
  if (header.formatVersion != kArtifactFormatVersion)
    return fail("artifact format version " + std::to_string(header.formatVersion) +
                " is not supported by this runtime (it reads version " +
                std::to_string(kArtifactFormatVersion) + "); recompile the model");
  if (header.manifestSize > size - sizeof(header) || header.dataOffset > size ||
      header.dataOffset < sizeof(header) + header.manifestSize)
    return fail("truncated or corrupt artifact (the manifest runs past the end "
                "of the file, " + std::to_string(size) + " bytes)");
  const char *manifestBytes = static_cast<const char *>(mapping) + sizeof(header);
  if (crc32(manifestBytes, header.manifestSize) != header.manifestCrc32)
    return fail("corrupt artifact (manifest checksum mismatch)");
  artifact->manifestCrc32 = header.manifestCrc32;
  artifact->manifestProto = std::make_unique<pa::Manifest>();
  if (!artifact->manifestProto->ParseFromArray(manifestBytes,
                                               static_cast<int>(header.manifestSize)))
    return fail("corrupt artifact (the manifest does not parse)");
  const pa::Manifest &manifest = *artifact->manifestProto;
  if (manifest.data_size() > size)
    return fail("truncated or corrupt artifact (a data region of " +
                std::to_string(manifest.data_size()) + " bytes in a file of " +
                std::to_string(size) + ")");
  if (header.dataOffset != size - manifest.data_size())
    return fail("truncated artifact: expected " +
                std::to_string(header.dataOffset + manifest.data_size()) +
                " bytes, the file has " + std::to_string(size));
  artifact->data = static_cast<const char *>(mapping) + header.dataOffset;
  Status valid = artifact->validate();
  if (!valid)
    return fail(valid.message());
  // Shards stored without bytes are made up in memory: refused, naming the weight, when
  // they would not fit (a corrupt manifest can declare any size).
  uint64_t memory = physicalMemoryBytes(), madeUp = 0;
  for (const pa::WeightShard &shard : manifest.weights()) {
    if (!shard.random())
      continue;
    if (__builtin_add_overflow(madeUp, shard.size(), &madeUp))
      madeUp = UINT64_MAX;
    if (memory > 0 && (shard.size() > memory || madeUp > memory))
      return fail("weight '" + shard.name() + "' (stored without bytes, made up when " +
                  "loaded) brings the made-up weights to " + std::to_string(madeUp) +
                  " bytes (" + formatBytes(madeUp) + "), more than this machine's memory (" +
                  formatBytes(memory) + ")");
  }
  for (int i = 0; i < manifest.weights_size(); ++i)
    if (manifest.weights(i).random())
      artifact->randomShards[i] = makeUpShard(manifest.weights(i));
  status = Status::ok();
  return artifact;
}

bool parc::rt::tensorBytes(const pa::TensorType &type, uint64_t &bytes) {
  bytes = dtypeSize(toDType(type.dtype()));
  for (int64_t dim : type.shape())
    if (dim < 0 || __builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes))
      return false;
  return true;
}

/// Whether [offset, offset + size) lies inside [0, limit), without overflow.
static bool within(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

/// Checks every index and size the executor will trust.
Status Artifact::validate() {
  const pa::Manifest &manifest = *manifestProto;
  auto bad = [](const std::string &what) {
    return Status::error("corrupt artifact (" + what + ")");
  };
  for (const pa::WeightShard &shard : manifest.weights()) {
    if (!shard.random() && (!within(shard.offset(), shard.size(), manifest.data_size()) ||
                            shard.offset() % kArtifactDataAlignment != 0))
      return bad("weight '" + shard.name() + "' lies outside the data region");
    uint64_t expected = 0;
    if (!tensorBytes(shard.type(), expected))
      return bad("weight '" + shard.name() + "' has an impossible shape");
    if (shard.size() != expected)
      return bad("weight '" + shard.name() + "' has " + std::to_string(shard.size()) +
                 " bytes, its type needs " + std::to_string(expected));
  }
  for (const pa::GraphValue &input : manifest.inputs()) {
    uint64_t bytes = 0;
    if (!tensorBytes(input.type(), bytes))
      return bad("input '" + input.name() + "' has an impossible shape");
  }
  for (const pa::GraphValue &output : manifest.outputs()) {
    uint64_t bytes = 0;
    if (!tensorBytes(output.type(), bytes))
      return bad("output '" + output.name() + "' has an impossible shape");
  }
  if (manifest.world_size() < 1 || manifest.programs_size() != manifest.world_size())
    return bad("world size " + std::to_string(manifest.world_size()) + " but " +
               std::to_string(manifest.programs_size()) + " programs");
  for (int r = 0; r < manifest.programs_size(); ++r) {
    const pa::Program &program = manifest.programs(r);
    int values = program.values_size();
    if (program.rank() != r)
      return bad("program " + std::to_string(r) + " is for rank " +
                 std::to_string(program.rank()));
    for (const pa::Value &value : program.values()) {
      uint64_t bytes = 0;
      if (!tensorBytes(value.type(), bytes))
        return bad("a value has an impossible shape");
      switch (value.storage_case()) {
      case pa::Value::kArenaOffset:
        if (!within(value.arena_offset(), bytes, program.arena_bytes()))
          return bad("a value lies outside the arena");
        break;
      case pa::Value::kWeight:
        if (value.weight() < 0 || value.weight() >= manifest.weights_size() ||
            bytes != manifest.weights(value.weight()).size())
          return bad("a value refers to a missing or smaller weight");
        break;
      case pa::Value::kConstant:
        if (value.constant().size() != bytes)
          return bad("a literal has the wrong size");
        break;
      case pa::Value::kInput:
        if (value.input() < 0 || value.input() >= manifest.inputs_size())
          return bad("a value refers to a missing input");
        break;
      default:
        return bad("a value has no storage");
      }
    }
    for (const pa::Instruction &inst : program.instructions())
      for (int id : inst.operands())
        if (id < 0 || id >= values)
          return bad("instruction '" + inst.op() + "' uses a missing value");
    for (const pa::Instruction &inst : program.instructions())
      for (int id : inst.results())
        if (id < 0 || id >= values ||
            program.values(id).storage_case() != pa::Value::kArenaOffset)
          return bad("instruction '" + inst.op() + "' writes outside the arena");
    if (program.outputs_size() != manifest.outputs_size())
      return bad("program " + std::to_string(r) + " lists " +
                 std::to_string(program.outputs_size()) + " outputs");
    for (int id : program.outputs())
      if (id < -1 || id >= values)
        return bad("an output refers to a missing value");
    for (const pa::Group &group : program.groups()) {
      bool member = false;
      for (int m : group.members()) {
        if (m < 0 || m >= manifest.world_size())
          return bad("group '" + group.name() + "' of rank " + std::to_string(r) +
                     " names rank " + std::to_string(m));
        member |= m == r;
      }
      if (!member)
        return bad("rank " + std::to_string(r) + " is not a member of its group '" +
                   group.name() + "'");
    }
  }
  return Status::ok();
}
