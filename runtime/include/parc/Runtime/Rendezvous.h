//===- Rendezvous.h - how the ranks of a run find each other ----*- C++ -*-===//
//
// Where the ranks of a run meet before they connect (the key-value store Gloo's rendezvous
// uses), which address each binds to, and, for runs across machines, the job store that
// global rank 0's process serves: keys for the rendezvous plus every rank's heartbeat, so
// that a rank that dies, hangs or loses its network ends the job on every node.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_RENDEZVOUS_H
#define PARC_RUNTIME_RENDEZVOUS_H

#include "parc/Runtime/Status.h"

#include <functional>
#include <memory>
#include <string>

namespace parc::rt {

/// Where the ranks meet: `--rendezvous=tcp|redis://HOST:PORT|file:///DIR`.
struct RendezvousOptions {
  enum class Kind {
    /// A private folder of one launcher (Gloo's FileStore; all ranks on this machine).
    Folder,
    /// Gloo's FileStore in a folder every node sees (`file:///shared/dir`).
    File,
    /// Gloo's RedisStore (`redis://HOST:PORT`).
    Redis,
    /// The job store served by global rank 0's process on HOST:PORT (`tcp`).
    Tcp,
  };
  Kind kind = Kind::Folder;
  /// Folder and File: the folder.
  std::string path;
  /// Redis and Tcp: the server.
  std::string host;
  int port = 0;
  /// The address this process's Gloo transport listens on.
  std::string nodeAddress = "127.0.0.1";
  /// How long a rank waits for the others to join (--rendezvous-timeout).
  double joinTimeoutSeconds = 300;
  /// Which start of the job this is (0, then 1, 2, ... after --max-restarts restarts): the
  /// job store of an earlier start, still going away, is not joined.
  int generation = 0;

  /// `tcp://HOST:PORT`, `redis://HOST:PORT`, `file:///DIR`: for messages.
  std::string describe() const;
};

/// Parses a --rendezvous value (`tcp`, `redis://HOST:PORT`, `file:///DIR`); `tcp` takes
/// its host and port from the master's. An error names the flag and what it expected.
Status parseRendezvous(const std::string &spec, RendezvousOptions &options);

/// The local address this machine uses to reach `host` (the interface a UDP socket
/// connected to it is bound to): where Gloo listens when --node-addr is not given.
Status localAddressReaching(const std::string &host, int port, std::string &address);

/// Publishes `record` (what this rank holds: world size, artifact checksum, inputs) as
/// `rank`'s in the rendezvous store and returns rank 0's (waiting for it up to the join
/// timeout), so that every rank can check it runs the same job as rank 0 before any group
/// connects.
Status exchangeWithRankZero(const RendezvousOptions &rendezvous, int rank,
                            const std::string &record, std::string &rankZeroRecord);

/// The key-value store and heartbeat monitor of a run across machines, served by global
/// rank 0's process on HOST:PORT. It keeps the keys the ranks set (Gloo's rendezvous, the
/// consistency checks) and every rank's last heartbeat; the first failure (a rank's
/// heartbeat connection closed before it said it was done, no heartbeat for
/// `kStaleSeconds`, or a rank reporting its error) becomes the job's abort message, which
/// every rank reads with its next heartbeat.
class JobStoreServer {
public:
  /// How long a rank may go without a heartbeat before the job is ended.
  static constexpr double kStaleSeconds = 5;

  /// Listens on host:port (SO_REUSEADDR; a port in use is an error naming it) and serves
  /// from a thread of its own.
  static std::unique_ptr<JobStoreServer> start(const std::string &host, int port, int world,
                                               int generation, Status &status);
  ~JobStoreServer();

  /// Waits until every rank said it is done or the job was aborted, at most `seconds`:
  /// the process serving the store outlives the others' last requests.
  bool waitUntilAllDone(double seconds);

  struct State;

private:
  explicit JobStoreServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state;
};

/// One rank's heartbeat to the job store: a thread that sends one every half second and
/// calls `onAbort` (from that thread) with the job's abort message when the store reports
/// one, or with the reason when the store stops answering (global rank 0's process died,
/// hung, or the network is gone).
class JobHeartbeat {
public:
  /// Connects to the store (retrying until `joinTimeoutSeconds` while it is not up yet)
  /// and starts beating as `rank`, described in messages as `where` ("rank 2 on node 1
  /// (127.0.0.3)").
  static std::unique_ptr<JobHeartbeat>
  start(const std::string &host, int port, int generation, int rank, const std::string &where,
        double joinTimeoutSeconds, std::function<void(const std::string &)> onAbort,
        Status &status);
  ~JobHeartbeat();

  /// Tells the store this rank failed with `message` (the job's abort message if it is the
  /// first), and stops beating.
  void fail(const std::string &message);
  /// Tells the store this rank finished, and stops beating.
  void done();
  /// The job's abort message if there is one by now (asks the store once); empty if not.
  std::string abortMessage();

  struct State;

private:
  explicit JobHeartbeat(std::unique_ptr<State> state);
  std::unique_ptr<State> state;
};

} // namespace parc::rt

#endif // PARC_RUNTIME_RENDEZVOUS_H
