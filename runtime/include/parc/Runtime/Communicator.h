//===- Communicator.h - collectives and point-to-point ----------*- C++ -*-===//
//
// The communication layer of the runtime: a CommContext connects one rank (one
// OS process) to the other ranks of a run; a Communicator is one group of those
// ranks, with the collectives that tensor parallelism needs and the
// point-to-point transfers that pipelines need. On CPU it runs over Gloo's TCP
// transport on 127.0.0.1 (lib/comm/).
//
// Every blocking operation gives up after the context's timeout and returns an
// error naming the operation and the group; a group that saw a transport error
// or a timeout stays unusable.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMMUNICATOR_H
#define PARC_RUNTIME_COMMUNICATOR_H

#include "parc/Runtime/Status.h"
#include "parc/Runtime/TensorRef.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace parc::rt {

/// A point-to-point transfer started by Communicator::isend or irecv that may
/// still be in flight. Move-only. wait() finishes it; a handle destroyed or
/// overwritten before wait() waits in its destructor (dropping the result), so
/// Gloo never touches the tensor after its handle is gone. An empty
/// (default-constructed or already waited) handle waits for nothing.
class [[nodiscard]] CommRequest {
public:
  /// What a communicator puts behind a handle.
  class Impl {
  public:
    virtual ~Impl() = default;
    /// Blocks until the transfer finished (or failed, or timed out) and returns
    /// its result.
    virtual Status wait() = 0;
  };

  /// An empty handle.
  CommRequest() = default;
  /// A handle of the transfer `impl`.
  explicit CommRequest(std::unique_ptr<Impl> impl);
  /// A handle that is already finished with `status` (a transfer that could not
  /// start).
  static CommRequest finished(Status status);

  CommRequest(CommRequest &&other) noexcept = default;
  /// Waits for the transfer this handle held before taking `other`'s.
  CommRequest &operator=(CommRequest &&other) noexcept;
  CommRequest(const CommRequest &) = delete;
  CommRequest &operator=(const CommRequest &) = delete;
  /// Waits for a transfer still in flight.
  ~CommRequest();

  /// Finishes the transfer and returns its result; the handle is empty
  /// afterwards.
  Status wait();
  /// Whether wait() still has something to wait for.
  bool pending() const { return impl != nullptr; }

private:
  std::unique_ptr<Impl> impl;
};

/// One communication group (a subset of the ranks, in a fixed order). Calls are
/// collective: every member calls them in the same order. All tensors are
/// contiguous, and every member passes tensors of the same dtype and shape. A
/// communicator is used by one thread at a time.
class Communicator {
public:
  virtual ~Communicator() = default;

  /// The position of this process in the group (0 .. size() - 1).
  virtual int rank() const = 0;
  /// The number of members.
  virtual int size() const = 0;
  /// The group's members as world ranks, in group order.
  virtual const std::vector<int> &worldRanks() const = 0;
  /// The group as messages name it, e.g. `group {0,2}` (world ranks).
  virtual const std::string &name() const = 0;

  /// In-place elementwise sum over the group: f32, f16, bf16, i64 and i32. f16
  /// and bf16 are summed in f32 and rounded once; integers wrap around on
  /// overflow.
  virtual Status allReduceSum(const TensorRef &tensor) = 0;

  /// out = the `in` of all members concatenated along `axis` in group order;
  /// every dtype, Bool included. out's shape is in's with dim `axis` multiplied
  /// by size().
  virtual Status allGather(const TensorRef &in, int64_t axis,
                           const TensorRef &out) = 0;

  /// out = this member's part, along `axis`, of the elementwise sum of all
  /// members' `in`: dim `axis` of `in` is cut into size() equal parts and
  /// member r gets part r. Dtypes as allReduceSum; out's shape is in's with dim
  /// `axis` divided by size().
  virtual Status reduceScatterSum(const TensorRef &in, int64_t axis,
                                  const TensorRef &out) = 0;

  /// Sends `tensor` to group member `peer`, matched by the peer's recv with the
  /// same `tag` (tags >= 0 distinguish concurrent transfers between the same
  /// two members). May return before the peer received: the transfer completes
  /// in the background, and the next blocking call on this communicator (recv,
  /// a collective, barrier, flush) finishes it, reporting its error if it
  /// failed. The tensor must stay unchanged until then.
  virtual Status send(const TensorRef &tensor, int peer, int tag) = 0;
  /// Receives into `tensor` what group member `peer` sends with `tag`; blocks
  /// until it arrived.
  virtual Status recv(const TensorRef &tensor, int peer, int tag) = 0;
  /// Starts sending `tensor` to `peer`; the tensor must stay unchanged until
  /// the handle's wait() returned.
  virtual CommRequest isend(const TensorRef &tensor, int peer, int tag) = 0;
  /// Starts receiving into `tensor` from `peer`; the data is there once the
  /// handle's wait() returned success.
  virtual CommRequest irecv(const TensorRef &tensor, int peer, int tag) = 0;
  /// Finishes every send still in the background and returns the first error
  /// among them.
  virtual Status flush() = 0;

  /// Returns once every member called barrier().
  virtual Status barrier() = 0;
};

/// The connection of one rank to all others of a run: the transport, the
/// rendezvous, and the groups created so far.
struct RendezvousOptions;

class CommContext {
public:
  /// Connects rank `rank` of `world` ranks through a rendezvous folder shared
  /// by all ranks (a Gloo FileStore there; it is created if missing and must
  /// not hold a previous run's files), over TCP on 127.0.0.1, and sets up the
  /// world group, so it returns once every rank has connected. Every blocking
  /// operation, here and in the groups, gives up after `timeoutSeconds` with an
  /// error naming the operation and the group. Returns null and sets `status`
  /// on failure. Ignores SIGPIPE in this process (when it had the default
  /// action) so that a dead peer is reported as an error instead of killing the
  /// process.
  static std::unique_ptr<CommContext> connect(int rank, int world,
                                              const std::string &rendezvousDir,
                                              double timeoutSeconds,
                                              Status &status);
  /// Connects as above through the rendezvous `rendezvous` names (a shared folder,
  /// Redis, or the job store of a run across machines), listening on its node
  /// address; members wait `rendezvous.joinTimeoutSeconds` for each other.
  static std::unique_ptr<CommContext> connect(int rank, int world,
                                              const RendezvousOptions &rendezvous,
                                              double timeoutSeconds,
                                              Status &status);

  /// Finishes background sends and closes every group's connections.
  ~CommContext();
  CommContext(const CommContext &) = delete;
  CommContext &operator=(const CommContext &) = delete;

  /// The group of the given world ranks (sorted, distinct, containing this
  /// rank), its members ranked in that order; created once per distinct member
  /// list and cached. Creating a group is collective among its members: all of
  /// them ask for it, in the same order relative to their other group
  /// creations. Returns null and sets `status` on failure.
  Communicator *group(const std::vector<int> &worldRanks, Status &status);
  /// The group of all ranks.
  Communicator *world(Status &status);

  /// This process's rank in the run.
  int rank() const { return myRank; }
  /// The number of ranks in the run.
  int worldSize() const { return numRanks; }

  /// Transport state shared by the groups (defined in lib/comm).
  struct Transport;

private:
  CommContext(int rank, int world, std::unique_ptr<Transport> transport);

  int myRank;
  int numRanks;
  std::unique_ptr<Transport> transport;
  std::map<std::vector<int>, std::unique_ptr<Communicator>> groups;
};

} // namespace parc::rt

#endif // PARC_RUNTIME_COMMUNICATOR_H
