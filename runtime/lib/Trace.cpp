//===- Trace.cpp - Chrome/Perfetto traces of a run ------------------------===//

#include "Trace.h"

#include "Transfers.h"

#include "parc/artifact/artifact.pb.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace parc::rt;
namespace pa = parc::artifact;
namespace fs = std::filesystem;

std::string parc::rt::quoted(const std::string &text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20)
      continue;
    out += c;
  }
  return out + "\"";
}

namespace {

/// Appends events as comma-separated JSON objects.
class EventWriter {
public:
  EventWriter(int pid) : pid(pid) {}

  void metadata(const std::string &kind, int tid, const std::string &name) {
    add("{\"ph\":\"M\",\"name\":" + quoted(kind) + ",\"pid\":" + std::to_string(pid) +
        ",\"tid\":" + std::to_string(tid) + ",\"args\":{\"name\":" + quoted(name) + "}}");
  }
  void span(const std::string &name, const std::string &category, double start,
            double end, const std::string &args) {
    char times[96];
    std::snprintf(times, sizeof(times), ",\"ts\":%.3f,\"dur\":%.3f", start,
                  std::max(0.0, end - start));
    add("{\"ph\":\"X\",\"name\":" + quoted(name) + ",\"cat\":" + quoted(category) +
        times + ",\"pid\":" + std::to_string(pid) + ",\"tid\":0,\"args\":{" + args + "}}");
  }
  void asyncSpan(const std::string &name, const std::string &id, double start, double end) {
    for (auto [phase, ts] : {std::pair{"b", start}, std::pair{"e", end}}) {
      char time[48];
      std::snprintf(time, sizeof(time), ",\"ts\":%.3f", ts);
      add(std::string("{\"ph\":\"") + phase + "\",\"name\":" + quoted(name) +
          ",\"cat\":\"transfer\",\"id\":" + quoted(id) + time +
          ",\"pid\":" + std::to_string(pid) + ",\"tid\":0}");
    }
  }
  std::string str() const { return out.str(); }

private:
  void add(const std::string &event) {
    if (!first)
      out << ",\n";
    first = false;
    out << event;
  }
  int pid;
  bool first = true;
  std::ostringstream out;
};

} // namespace

std::string parc::rt::rankTraceFile(const std::string &workDir, int rank) {
  return workDir + "/rank" + std::to_string(rank) + ".trace";
}

std::string parc::rt::rankTraceEvents(const pa::Manifest &manifest, int rank,
                                      const Executor &executor) {
  const pa::Program &program = manifest.programs(rank);
  const std::vector<InstructionSpan> &spans = executor.lastRunSpans();
  const std::vector<std::string> &labels = executor.instructionLabels();
  EventWriter events(rank);
  events.metadata("process_name", 0,
                  "rank " + std::to_string(rank) + ": stage " +
                      std::to_string(program.stage()) + ", tp " +
                      std::to_string(program.tp_index()));
  events.metadata("thread_name", 0, "compute");
  if (spans.size() != static_cast<size_t>(program.instructions_size()))
    return events.str();

  // Pipeline steps: runs of instructions of one (chunk, microbatch).
  int stepStart = -1;
  auto closeStep = [&](int end) {
    if (stepStart < 0)
      return;
    const pa::Instruction &first = program.instructions(stepStart);
    int64_t chunk = first.step().chunk();
    int64_t microbatch = first.step().microbatch();
    bool backward = first.step().backward();
    // The step's work starts once its inputs arrived: waiting is shown on its own.
    int computeStart = stepStart;
    while (computeStart + 1 < end &&
           (program.instructions(computeStart).op() == "recv" ||
            program.instructions(computeStart).op() == "recv_wait"))
      ++computeStart;
    events.span((backward ? "B" : "F") + std::to_string(microbatch) + " c" +
                    std::to_string(chunk),
                "step", spans[computeStart].startMicros, spans[end - 1].endMicros,
                "\"microbatch\":" + std::to_string(microbatch) +
                    ",\"chunk\":" + std::to_string(chunk) +
                    ",\"pass\":\"" + (backward ? "backward" : "forward") + "\"");
    stepStart = -1;
  };
  for (int i = 0; i < program.instructions_size(); ++i) {
    const pa::Instruction &inst = program.instructions(i);
    bool inStep = inst.has_step();
    auto same = [](const pa::ScheduleStep &a, const pa::ScheduleStep &b) {
      return a.chunk() == b.chunk() && a.microbatch() == b.microbatch() &&
             a.backward() == b.backward();
    };
    bool sameStep = stepStart >= 0 && inStep &&
                    same(inst.step(), program.instructions(stepStart).step());
    if (!sameStep) {
      closeStep(i);
      if (inStep)
        stepStart = i;
    }
  }
  closeStep(program.instructions_size());

  // Instructions; transfers in flight from their start to their wait.
  std::map<std::tuple<bool, int64_t, int64_t>, double> started;
  for (int i = 0; i < program.instructions_size(); ++i) {
    const pa::Instruction &inst = program.instructions(i);
    const std::string &op = inst.op();
    bool transfer = isTransfer(op);
    bool collective = op == "all_reduce" || op == "all_gather" || op == "reduce_scatter";
    events.span(labels[i], transfer ? "transfer" : collective ? "collective" : "compute",
                spans[i].startMicros, spans[i].endMicros, "");
    if (!transfer)
      continue;
    bool send = op == "send" || op == "send_wait";
    int64_t peer = inst.has_transfer() ? inst.transfer().peer() : -1;
    int64_t tag = inst.has_transfer() ? inst.transfer().tag() : -1;
    if (op == "send" || op == "recv") {
      started[{send, peer, tag}] = spans[i].startMicros;
      continue;
    }
    auto it = started.find({send, peer, tag});
    if (it == started.end())
      continue;
    std::string name = (send ? "send to rank " : "recv from rank ") + std::to_string(peer);
    events.asyncSpan(name, std::to_string(rank) + (send ? "s" : "r") + std::to_string(peer) +
                               "t" + std::to_string(tag),
                     it->second, spans[i].endMicros);
  }
  return events.str();
}

Status parc::rt::writeMergedTrace(const std::string &workDir, int ranks,
                                  const std::string &path) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out)
      return Status::error("--trace " + path + ": cannot write");
    out << "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
    bool first = true;
    for (int rank = 0; rank < ranks; ++rank) {
      std::ifstream in(rankTraceFile(workDir, rank));
      std::stringstream events;
      events << in.rdbuf();
      if (events.str().empty())
        continue;
      if (!first)
        out << ",\n";
      first = false;
      out << events.str();
    }
    out << "\n]}\n";
    if (!out)
      return Status::error("--trace " + path + ": cannot write (disk full?)");
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    fs::remove(temporary, error);
    return Status::error("--trace " + path + ": " + error.message());
  }
  return Status::ok();
}
