//===- Checkpoint.cpp - --save, --resume and --save-every -----------------===//

#include "Checkpoint.h"

#include "JobPlacement.h"
#include "SplitBlocks.h"
#include "Worker.h"

#include "parc/Runtime/Communicator.h"
#include "parc/Runtime/Executor.h"
#include "parc/Runtime/Npy.h"

#include "parc/artifact/artifact.pb.h"

#include <cstring>
#include <filesystem>
#include <fstream>

using namespace parc::rt;
namespace pa = parc::artifact;

/// The checkpoint file of weight `name`.
static std::string checkpointFile(const std::string &dir, const std::string &name) {
  return dir + "/" + outputFileName(name);
}

Status parc::rt::replaceCheckpoint(const std::string &staging, const std::string &dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::string old = dir + ".old";
  fs::remove_all(old, error);
  if (fs::exists(dir))
    fs::rename(dir, old, error);
  if (!error)
    fs::rename(staging, dir, error);
  if (error)
    return Status::error("--save " + dir + ": " + error.message());
  fs::remove_all(old, error);
  return Status::ok();
}

/// The manifest's entry for the weight shard a mutable weight was copied from.
static const pa::WeightShard *shardNamed(const pa::Manifest &manifest,
                                         const std::string &name) {
  for (const pa::WeightShard &shard : manifest.weights())
    if (shard.name() == name)
      return &shard;
  return nullptr;
}

Status parc::rt::saveCheckpoint(const std::string &dir, const Executor &executor,
                             const pa::Manifest &manifest, int rank,
                             const CommunicatorGroups &groups, int stepsDone) {
  if (rank == 0) {
    std::error_code made;
    std::filesystem::create_directories(dir, made);
    std::ofstream steps(checkpointStepsFile(dir));
    steps << stepsDone << "\n";
    if (!steps)
      return Status::error("--save " + dir + ": cannot write " + checkpointStepsFile(dir));
  }
  const pa::Program &program = manifest.programs(rank);
  bool firstReplica = program.dp_index() == 0;
  for (const auto &[name, tensor] : executor.mutableWeights()) {
    const pa::WeightShard *shard = shardNamed(manifest, name);
    std::string fileName = name;
    TensorRef whole = tensor;
    std::vector<char> gathered, buffer;
    if (shard && shard->has_shard_of()) {
      const pa::ShardOf &of = shard->shard_of();
      std::string group = of.group().empty() ? "tp" : of.group();
      // Another data-parallel replica's tp group gathers and writes the same tensor.
      if (group == "tp" && !firstReplica)
        continue;
      auto member = groups.find(group);
      if (member == groups.end() || !member->second)
        return Status::error("--save: '" + name + "' is a shard but there is no " + group +
                             " group");
      // All-gather along the split dim gives [part r of every block] per rank; the whole
      // tensor interleaves them block by block.
      gathered.resize(tensor.bytes() * of.count());
      TensorRef all = tensor;
      all.shape[of.dim()] *= of.count();
      all.data = gathered.data();
      PARC_RETURN_IF_ERROR(member->second->allGather(tensor, of.dim(), all));
      SplitBlocks blocks(of, tensor.shape, static_cast<int64_t>(tensor.bytes()));
      buffer.resize(gathered.size());
      for (int64_t o = 0; o < blocks.outer; ++o)
        for (int64_t r = 0; r < blocks.count; ++r)
          for (int64_t g = 0; g < blocks.groups; ++g)
            std::memcpy(buffer.data() + blocks.whole(o, g, r),
                        gathered.data() + ((o * blocks.count + r) * blocks.groups + g) *
                                              blocks.partBytes,
                        blocks.partBytes);
      whole = all;
      whole.data = buffer.data();
      fileName = of.weight();
      // ZeRO-1's flattened, padded state goes into the checkpoint in its weight's shape:
      // the leading elements, without the padding.
      if (of.has_checkpoint())
        whole.shape = toShape(of.checkpoint());
    }
    if (program.tp_index() != 0 || !firstReplica)
      continue;
    std::error_code made;
    std::filesystem::create_directories(dir, made);
    std::string path = checkpointFile(dir, fileName);
    std::string mine = path + ".rank" + std::to_string(rank);
    PARC_RETURN_IF_ERROR(writeNpy(mine, whole));
    std::error_code error;
    std::filesystem::rename(mine, path, error);
    if (error)
      return Status::error("--save " + path + ": " + error.message());
  }
  return Status::ok();
}

Status parc::rt::loadCheckpoint(const std::string &dir, Executor &executor,
                             const pa::Manifest &manifest) {
  for (const auto &[name, tensor] : executor.mutableWeights()) {
    const pa::WeightShard *shard = shardNamed(manifest, name);
    bool split = shard && shard->has_shard_of();
    std::string path = checkpointFile(dir, split ? shard->shard_of().weight() : name);
    NpyArray array;
    PARC_RETURN_IF_ERROR(readNpy(path, array));
    std::vector<int64_t> shape = tensor.shape;
    if (split)
      shape[shard->shard_of().dim()] *= shard->shard_of().count();
    bool flattened = split && shard->shard_of().has_checkpoint();
    if (flattened)
      shape = toShape(shard->shard_of().checkpoint());
    if (array.dtype != tensor.dtype || array.shape != shape)
      return Status::error("--resume: " + path + " holds " + dtypeName(array.dtype) + " " +
                           formatShape(array.shape) + ", but '" +
                           (split ? shard->shard_of().weight() : name) + "' is " +
                           dtypeName(tensor.dtype) + " " + formatShape(shape));
    if (!split) {
      std::memcpy(tensor.data, array.data.data(), array.data.size());
      continue;
    }
    if (flattened) {
      // This rank's part of the flattened tensor padded with zeros to dp equal parts.
      size_t part = tensor.bytes(), begin = part * shard->shard_of().index();
      size_t kept = begin < array.data.size() ? std::min(part, array.data.size() - begin) : 0;
      std::memset(tensor.data, 0, part);
      if (kept)
        std::memcpy(tensor.data, array.data.data() + begin, kept);
      continue;
    }
    SplitBlocks blocks(shard->shard_of(), tensor.shape, static_cast<int64_t>(tensor.bytes()));
    int64_t r = shard->shard_of().index();
    for (int64_t o = 0; o < blocks.outer; ++o)
      for (int64_t g = 0; g < blocks.groups; ++g)
        std::memcpy(static_cast<char *>(tensor.data) + blocks.local(o, g),
                    array.data.data() + blocks.whole(o, g, r), blocks.partBytes);
  }
  return Status::ok();
}

Status parc::rt::publishCheckpoint(const LaunchOptions &options, const JobPlacement &placement,
                                Communicator &world) {
  std::string staging = checkpointStagingDir(options.saveDir);
  auto publish = [&]() -> Status {
    if (!std::filesystem::exists(staging))
      return Status::ok();
    return replaceCheckpoint(staging, options.saveDir);
  };
  if (placement.rank == 0)
    PARC_RETURN_IF_ERROR(publish());
  PARC_RETURN_IF_ERROR(world.barrier());
  if (placement.rank != 0 && placement.localRank == 0)
    PARC_RETURN_IF_ERROR(publish());
  return world.barrier();
}

