//===- TransferCheck.cpp - can a pipeline's transfers all finish? ---------===//
//
// Implements TransferCheck.h by simulation: each stage is a list of transfer events in
// program order; a round advances every stage as far as it can go, and rounds repeat until
// no stage moves. Collectives and compute never block here (they do not depend on the
// order of point-to-point transfers between two stages).
//
//===----------------------------------------------------------------------===//

#include "Pipeline/TransferCheck.h"

#include "parc/Dialect/Parc/IR/ParcOps.h"

#include <set>
#include <tuple>
#include <vector>

using namespace mlir;
using namespace mlir::parc;

namespace {

/// One transfer event of a stage: it posts a send or receive, or waits for one.
struct TransferEvent {
  enum Kind { PostSend, PostRecv, WaitSend, WaitRecv } kind;
  int64_t peer, tag;
  Operation *op;
};

/// (from, to, tag) of a transfer.
using TransferKey = std::tuple<int64_t, int64_t, int64_t>;

std::vector<TransferEvent> transferEventsOf(func::FuncOp stage) {
  std::vector<TransferEvent> events;
  auto add = [&](TransferEvent::Kind kind, int64_t peer, int64_t tag, Operation *op) {
    events.push_back({kind, peer, tag, op});
  };
  stage.walk([&](Operation *op) {
    if (auto send = dyn_cast<SendOp>(op))
      add(TransferEvent::PostSend, send.getStage(), send.getTag(), op);
    else if (auto wait = dyn_cast<SendWaitOp>(op))
      add(TransferEvent::WaitSend, wait.getStage(), wait.getTag(), op);
    else if (auto recv = dyn_cast<RecvOp>(op))
      add(TransferEvent::PostRecv, recv.getStage(), recv.getTag(), op);
    else if (auto wait = dyn_cast<RecvWaitOp>(op))
      if (RecvOp posted = wait.getRecv())
        add(TransferEvent::WaitRecv, posted.getStage(), posted.getTag(), op);
  });
  return events;
}

} // namespace

LogicalResult mlir::parc::checkTransfersFinish(ArrayRef<func::FuncOp> stages) {
  std::vector<std::vector<TransferEvent>> events;
  for (func::FuncOp stage : stages)
    events.push_back(transferEventsOf(stage));
  std::vector<size_t> next(stages.size(), 0);
  std::set<TransferKey> sendsPosted, recvsPosted;
  bool moved = true;
  while (moved) {
    moved = false;
    for (int64_t s = 0; s < static_cast<int64_t>(stages.size()); ++s) {
      for (; next[s] < events[s].size(); ++next[s], moved = true) {
        const TransferEvent &event = events[s][next[s]];
        if (event.kind == TransferEvent::PostSend)
          sendsPosted.insert({s, event.peer, event.tag});
        else if (event.kind == TransferEvent::PostRecv)
          recvsPosted.insert({event.peer, s, event.tag});
        else if (event.kind == TransferEvent::WaitSend &&
                 !recvsPosted.count({s, event.peer, event.tag}))
          break;
        else if (event.kind == TransferEvent::WaitRecv &&
                 !sendsPosted.count({event.peer, s, event.tag}))
          break;
      }
    }
  }
  for (int64_t s = 0; s < static_cast<int64_t>(stages.size()); ++s) {
    if (next[s] == events[s].size())
      continue;
    const TransferEvent &event = events[s][next[s]];
    InFlightDiagnostic error = event.op->emitError()
                               << "internal error: the pipeline's transfers cannot all "
                                  "finish: stage "
                               << s << " waits ";
    if (event.kind == TransferEvent::WaitSend)
      error << "for stage " << event.peer << " to post the receive of tag " << event.tag;
    else
      error << "for tag " << event.tag << " from stage " << event.peer;
    error << ", which never happens";
    for (int64_t other = 0; other < static_cast<int64_t>(stages.size()); ++other)
      if (other != s && next[other] < events[other].size())
        error.attachNote(events[other][next[other]].op->getLoc())
            << "stage " << other << " is stuck here";
    return failure();
  }
  return success();
}
