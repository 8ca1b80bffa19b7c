//===- Transfers.cpp - binding pipeline sends and receives ----------------===//

#include "Transfers.h"

#include "parc/artifact/artifact.pb.h"

using namespace parc::rt;

std::shared_ptr<CommRequest> TransferTable::slot(bool send, int peer, int tag) {
  std::shared_ptr<CommRequest> &slot = slots[{send, peer, tag}];
  if (!slot)
    slot = std::make_shared<CommRequest>();
  return slot;
}

bool parc::rt::isTransfer(const std::string &op) {
  return op == "send" || op == "send_wait" || op == "recv" || op == "recv_wait";
}

Status parc::rt::bindTransfer(const parc::artifact::Instruction &inst,
                              const std::vector<TensorRef> &operands,
                              const std::vector<TensorRef> &results,
                              Communicator *world, TransferTable &table,
                              BoundKernel &kernel) {
  InstructionAttributes attrs(inst);
  if (!world)
    return Status::error("a transfer needs other ranks, but this run has one");
  if (!attrs.has("peer") || !attrs.has("tag"))
    return Status::error("a transfer needs 'peer' and 'tag' attributes");
  int peer = static_cast<int>(attrs.getInt("peer"));
  int tag = static_cast<int>(attrs.getInt("tag"));
  if (peer < 0 || peer >= world->size())
    return Status::error("peer " + std::to_string(peer) + " is not a rank of this run");
  const std::string &op = inst.op();
  bool send = op == "send" || op == "send_wait";
  std::shared_ptr<CommRequest> request = table.slot(send, peer, tag);
  if (op == "send" || op == "send_wait") {
    if (operands.size() != 1 || !results.empty())
      return Status::error("expects 1 operand and no result");
    TensorRef tensor = operands[0];
    if (op == "send")
      kernel = [=]() {
        *request = world->isend(tensor, peer, tag);
        return Status::ok();
      };
    else
      kernel = [=]() { return request->wait(); };
    return Status::ok();
  }
  if (op == "recv") {
    if (!operands.empty() || results.size() != 1)
      return Status::error("expects no operand and 1 result");
    TensorRef tensor = results[0];
    kernel = [=]() {
      *request = world->irecv(tensor, peer, tag);
      return Status::ok();
    };
    return Status::ok();
  }
  if (operands.size() != 1 || results.size() != 1)
    return Status::error("expects 1 operand and 1 result");
  kernel = [=]() { return request->wait(); };
  return Status::ok();
}
