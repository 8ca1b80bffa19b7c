//===- Transfers.h - binding pipeline sends and receives --------*- C++ -*-===//
//
// The four transfer instructions of a pipelined program (send, send_wait, recv,
// recv_wait) are bound here rather than by a backend: a start and its wait share the
// in-flight request, found by kind, peer and tag, and they run on the communicator of the
// whole world (peers are world ranks).
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_LIB_TRANSFERS_H
#define PARC_RUNTIME_LIB_TRANSFERS_H

#include "parc/Runtime/Backend.h"
#include "parc/Runtime/Communicator.h"

#include <map>
#include <memory>
#include <tuple>

namespace parc::rt {

/// Requests between a start instruction and its wait.
class TransferTable {
public:
  /// The request slot of the send (or receive) to/from `peer` with `tag`.
  std::shared_ptr<CommRequest> slot(bool send, int peer, int tag);
  /// The host buffer of that transfer when device memory is staged through the host.
  std::shared_ptr<std::vector<char>> stagingBuffer(bool send, int peer, int tag, size_t bytes);

private:
  std::map<std::tuple<bool, int, int>, std::shared_ptr<CommRequest>> slots;
  std::map<std::tuple<bool, int, int>, std::shared_ptr<std::vector<char>>> buffers;
};

/// True for send, send_wait, recv and recv_wait.
bool isTransfer(const std::string &op);

/// Binds a transfer instruction over `world` (null when the run has one rank). With
/// `staging` (a backend whose memory the host cannot address), a send first copies its
/// tensor to a host buffer and a receive's wait copies the received buffer to the device.
Status bindTransfer(const parc::artifact::Instruction &inst,
                    const std::vector<TensorRef> &operands,
                    const std::vector<TensorRef> &results, Communicator *world,
                    TransferTable &table, Backend *staging, BoundKernel &kernel);

} // namespace parc::rt

#endif // PARC_RUNTIME_LIB_TRANSFERS_H
