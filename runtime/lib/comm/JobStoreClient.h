//===- JobStoreClient.h - Gloo's view of the job store ----------*- C++ -*-===//
//
// The client side of the job store (Rendezvous.h): a gloo::rendezvous::Store whose keys live
// in global rank 0's process, so that Gloo's rendezvous works across machines as it does
// through a FileStore on one. The wire format is in JobStoreWire.h.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_COMM_JOBSTORECLIENT_H
#define PARC_RUNTIME_COMM_JOBSTORECLIENT_H

#include "parc/Runtime/Status.h"

#include <gloo/rendezvous/store.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parc::rt::comm {

class JobStoreClient : public gloo::rendezvous::Store {
public:
  /// Connects to the store of generation `generation` at host:port, retrying while nothing
  /// listens there yet (or an earlier start's store still does), until
  /// `joinTimeoutSeconds`; checks that what answers is a parc job store.
  static std::unique_ptr<JobStoreClient> connect(const std::string &host, int port,
                                                 int generation, double joinTimeoutSeconds,
                                                 Status &status);
  ~JobStoreClient() override;

  void set(const std::string &key, const std::vector<char> &data) override;
  /// Waits for `key` (up to the join timeout) and returns its value.
  std::vector<char> get(const std::string &key) override;
  void wait(const std::vector<std::string> &keys) override;
  void wait(const std::vector<std::string> &keys,
            const std::chrono::milliseconds &timeout) override;

  /// `key`'s value if it is set now.
  bool tryGet(const std::string &key, std::vector<char> &value);
  /// Sends one request (an opcode and its fields) and reads the reply's fields; throws
  /// std::runtime_error naming the store when it fails.
  std::vector<std::string> request(char op, const std::vector<std::string> &fields,
                                   double replySeconds);

  const std::string &address() const { return where; }

private:
  JobStoreClient(int socket, std::string where, double joinTimeoutSeconds);
  int socket;
  std::string where;
  std::chrono::milliseconds joinTimeout;
  std::mutex lock;
};

} // namespace parc::rt::comm

#endif // PARC_RUNTIME_COMM_JOBSTORECLIENT_H
