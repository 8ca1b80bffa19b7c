//===- GlooCommunicator.h - a Communicator over Gloo ------------*- C++ -*-===//
//
// The CPU implementation of Communicator: one connected Gloo context per group.
// Collectives are in GlooCommunicator.cpp and ReduceScatter.cpp, point-to-point
// transfers in PointToPoint.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMM_GLOOCOMMUNICATOR_H
#define PARC_RUNTIME_COMM_GLOOCOMMUNICATOR_H

#include "parc/Runtime/Communicator.h"

#include <gloo/context.h>

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace parc::rt::comm {

/// Slot prefixes of parc's own transfers; Gloo's collectives use 0x01 to 0x08
/// (gloo/types.h).
constexpr uint8_t kPointToPointSlotPrefix = 0x20;
constexpr uint8_t kReduceScatterSlotPrefix = 0x21;

/// The most bytes an all-gather along a non-leading axis gathers at a time.
constexpr size_t kGatherScratchBytes = size_t(8) << 20;

/// The state of one group that outlives its communicator while transfers are in
/// flight.
struct GroupState {
  /// The connected Gloo context; null for a group of one.
  std::shared_ptr<gloo::Context> context;
  /// `group {0,2}`.
  std::string name;
  /// The limit of every blocking operation.
  std::chrono::milliseconds timeout{0};
  /// For a group of two, " (the peer is rank N)": a lost connection then names the rank
  /// at its other end.
  std::string peer;
  /// The first transport error; once set, the group is unusable.
  Status failure;

  /// `op in group {0,2}: detail`.
  Status error(const std::string &op, const std::string &detail) const;
  /// Records `exception`, thrown by Gloo during `op`, as the group's failure
  /// and returns it.
  Status fail(const std::string &op, const std::exception &exception);
  /// An error for `op` when the group already failed, else success.
  Status checkUsable(const std::string &op) const;
  /// A buffer of at least `bytes`, kept for the group's next calls (its
  /// collectives run one at a time); its contents are undefined.
  char *scratch(size_t bytes);

private:
  std::unique_ptr<char[]> scratchBuffer;
  size_t scratchBytes = 0;
};

/// Checks that `tensor` (called `role` in messages) has memory when it has
/// elements.
Status checkData(const GroupState &state, const std::string &op,
                 const char *role, const TensorRef &tensor);

/// Checks the tensors of a gather or scatter along `axis` over `parts` members:
/// `part` and `whole` have the same dtype and shape except that dim `axis` of
/// `whole` is `parts` times that of `part`. A negative `axis` counts from the
/// end; it is normalized in place.
Status checkSplit(const GroupState &state, const std::string &op,
                  const TensorRef &part, const char *partRole,
                  const TensorRef &whole, const char *wholeRole, int64_t &axis,
                  int parts);

/// A Communicator whose members talk through one Gloo context.
class GlooCommunicator : public Communicator {
public:
  /// A communicator of `worldRanks` in which this process is member
  /// `groupRank`; `context` is connected (or null when the group has one
  /// member).
  GlooCommunicator(std::vector<int> worldRanks, int groupRank,
                   std::shared_ptr<gloo::Context> context,
                   std::chrono::milliseconds timeout);
  /// Finishes background sends (dropping their errors).
  ~GlooCommunicator() override;

  // Communicator's operations, documented in Communicator.h.
  int rank() const override { return groupRank; }
  int size() const override { return static_cast<int>(members.size()); }
  const std::vector<int> &worldRanks() const override { return members; }
  const std::string &name() const override { return state->name; }

  Status allReduceSum(const TensorRef &tensor) override;
  Status allGather(const TensorRef &in, int64_t axis,
                   const TensorRef &out) override;
  Status reduceScatterSum(const TensorRef &in, int64_t axis,
                          const TensorRef &out) override;
  Status send(const TensorRef &tensor, int peer, int tag) override;
  Status recv(const TensorRef &tensor, int peer, int tag) override;
  CommRequest isend(const TensorRef &tensor, int peer, int tag) override;
  CommRequest irecv(const TensorRef &tensor, int peer, int tag) override;
  Status flush() override;
  Status barrier() override;

private:
  /// Starts a send or receive of `tensor` with `peer`; null `transfer` for an
  /// empty tensor.
  Status startTransfer(bool isSend, const TensorRef &tensor, int peer, int tag,
                       std::unique_ptr<CommRequest::Impl> &transfer);
  /// Finishes background sends after a blocking call that returned `status`,
  /// returning `status` if it failed, else the first send error.
  Status finishCall(Status status);
  /// The ring reduce-scatter behind reduceScatterSum, on `work` holding size()
  /// chunks of `chunk` elements of T in member order; chunk rank() of `work`
  /// ends up summed. `incoming` (`chunk` elements) receives the peer's chunks.
  template <typename T>
  Status ringReduceScatter(T *work, int64_t chunk, T *incoming,
                           const std::string &op);
  /// The Gloo tag of the next collective: every member counts the same.
  uint32_t nextTag() { return collectiveTag++; }

  std::vector<int> members;
  int groupRank;
  std::shared_ptr<GroupState> state;
  std::vector<CommRequest> backgroundSends;
  uint32_t collectiveTag = 0;
};

} // namespace parc::rt::comm

#endif // PARC_RUNTIME_COMM_GLOOCOMMUNICATOR_H
