//===- Checkpoint.h - --save, --resume and --save-every ---------*- C++ -*-===//
//
// A checkpoint is a folder of whole tensors, one `.npy` per trained weight and optimizer
// state (named after the ONNX initializer), plus `parc-steps.txt`: whatever the layout that
// wrote it, any layout can resume from it (docs/training.md). The ranks write into
// `DIR.partial`, which replaces `DIR` only once every rank has written its part.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_CHECKPOINT_H
#define PARC_RUNTIME_LIB_CHECKPOINT_H

#include "LaunchOptions.h"

#include "parc/Runtime/Backend.h"
#include "parc/Runtime/Status.h"

#include <string>

namespace parc::artifact {
class Manifest;
} // namespace parc::artifact

namespace parc::rt {

class Executor;
struct JobPlacement;

/// Where the ranks write a checkpoint for --save DIR: the launcher renames it to DIR once
/// every rank succeeded, so a failed run leaves no half checkpoint under that name.
inline std::string checkpointStagingDir(const std::string &dir) { return dir + ".partial"; }
/// The file in a checkpoint that says after how many training steps it was taken.
inline std::string checkpointStepsFile(const std::string &dir) { return dir + "/parc-steps.txt"; }
/// Puts the complete checkpoint `staging` in place as `dir`: the previous one is moved to
/// `dir.old` first and removed last, so that a crash in between leaves one complete
/// checkpoint under one of the two names.
Status replaceCheckpoint(const std::string &staging, const std::string &dir);

/// Writes every trained weight and optimizer state of this rank as a whole tensor into
/// `dir` (DIR.partial). A shard is first gathered from its group: tensor-parallel shards
/// from the tp group, ZeRO-1's optimizer state from the dp group. The rank at tp and dp
/// coordinate 0 of each stage writes. A weight two stages hold (a tied embedding) is
/// written by both, each into a file of its own renamed into place. Rank 0 records how many
/// steps the checkpoint is after (`parc-steps.txt`), where a restarted job goes on from.
Status saveCheckpoint(const std::string &dir, const Executor &executor,
                      const parc::artifact::Manifest &manifest, int rank,
                      const CommunicatorGroups &groups, int stepsDone);

/// Reads every trained weight and optimizer state from `dir` (what --save wrote); a
/// tensor-parallel shard takes its part of the whole tensor.
Status loadCheckpoint(const std::string &dir, Executor &executor,
                      const parc::artifact::Manifest &manifest);

/// --save in a run across machines: the checkpoint is complete once every rank passed the
/// final barrier. Global rank 0 puts its node's DIR.partial in place as DIR; then each
/// other node's first rank does the same with its own if it is still there (the folder is
/// per node, not shared): that node's part, to be merged with `python -m parc.checkpoint
/// merge`.
Status publishCheckpoint(const LaunchOptions &options, const JobPlacement &placement,
                         Communicator &world);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_CHECKPOINT_H
