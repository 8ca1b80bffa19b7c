//===- SplitBlocks.h - where a weight shard sits in its whole ---*- C++ -*-===//

#ifndef PARC_RUNTIME_LIB_SPLITBLOCKS_H
#define PARC_RUNTIME_LIB_SPLITBLOCKS_H

#include "parc/artifact/artifact.pb.h"

#include <cstdint>

namespace parc::rt {

/// The blocks of a split weight (ShardOf in the artifact format): for every index of the
/// dims before `dim`, dim `dim` of the whole is `groups` blocks of `count` parts, and the
/// shard holds part `index` of each block; one part of one block, with everything after
/// the dim, is `partBytes`.
struct SplitBlocks {
  int64_t outer = 1, groups = 1, count = 1, partBytes = 0;
  /// `shardDims`: the shard's dims (those before `dim` are the whole's); `shardBytes`: its
  /// size.
  template <typename Dims>
  SplitBlocks(const artifact::ShardOf &of, const Dims &shardDims, int64_t shardBytes)
      : groups(of.groups()), count(of.count()) {
    for (int64_t d = 0; d < of.dim(); ++d)
      outer *= shardDims[d];
    partBytes = shardBytes / (outer * groups);
  }
  /// Byte offset of (outer o, block g, part r) in the whole tensor.
  int64_t whole(int64_t o, int64_t g, int64_t r) const {
    return ((o * groups + g) * count + r) * partBytes;
  }
  /// Byte offset of (outer o, block g) in the shard.
  int64_t local(int64_t o, int64_t g) const { return (o * groups + g) * partBytes; }
};

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_SPLITBLOCKS_H
