//===- Profile.cpp - where a rank's time went ------------------------------===//

#include "Profile.h"

#include "Trace.h"

#include "parc/Runtime/Executor.h"

#include "parc/artifact/artifact.pb.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

using namespace parc::rt;
namespace pa = parc::artifact;

/// Prints where a rank's time went: per op kind, and the ten slowest instructions.
void parc::rt::printProfile(int rank, const Executor &executor, int runs) {
  const std::vector<double> &ms = executor.instructionMilliseconds();
  const std::vector<std::string> &labels = executor.instructionLabels();
  std::map<std::string, std::pair<double, int>> byOp;
  double total = 0;
  for (size_t i = 0; i < ms.size(); ++i) {
    std::string op = labels[i].substr(labels[i].rfind('(') + 1);
    op.pop_back();
    byOp[op].first += ms[i] / runs;
    byOp[op].second += 1;
    total += ms[i] / runs;
  }
  std::vector<std::pair<double, std::string>> ops;
  for (const auto &[op, entry] : byOp)
    ops.push_back({entry.first, op});
  std::sort(ops.rbegin(), ops.rend());
  std::printf("parc-run: rank %d profile, %.2f ms per run:\n", rank, total);
  for (const auto &[time, op] : ops)
    std::printf("  %-16s %9.3f ms %5.1f%% (%d instructions)\n", op.c_str(), time,
                100 * time / total, byOp[op].second);
  std::vector<size_t> order(ms.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ms[a] > ms[b]; });
  std::printf("  slowest instructions:\n");
  for (size_t k = 0; k < std::min<size_t>(10, order.size()); ++k)
    std::printf("    %9.3f ms  %s\n", ms[order[k]] / runs, labels[order[k]].c_str());
  std::fflush(stdout);
}

namespace {

uint64_t bytesOf(const pa::Value &value) {
  return numElements(toShape(value.type())) * dtypeSize(toDType(value.type().dtype()));
}

/// {"m", "n", "k", "batch", "dtype", "epilogue"} of a matmul or GEMM region: the row-major
/// product [batch..., m, k] x [..., k, n].
std::string gemmShape(const pa::Program &program, const pa::Instruction &inst,
                      const std::string &epilogue) {
  Shape lhs = toShape(program.values(inst.operands(0)).type());
  Shape rhs = toShape(program.values(inst.operands(1)).type());
  Shape out = toShape(program.values(inst.results(0)).type());
  if (lhs.size() < 2 || rhs.size() < 2 || out.size() < 2)
    return "";
  int64_t m = lhs[lhs.size() - 2], k = lhs.back(), n = rhs.back();
  int64_t batch = numElements(out) / std::max<int64_t>(1, m * n);
  int64_t rhsBatch = numElements(rhs) / std::max<int64_t>(1, k * n);
  return "{\"m\": " + std::to_string(m) + ", \"n\": " + std::to_string(n) +
         ", \"k\": " + std::to_string(k) + ", \"batch\": " + std::to_string(batch) +
         ", \"rhs_batch\": " + std::to_string(rhsBatch) +
         ", \"dtype\": " +
         quoted(dtypeName(toDType(program.values(inst.results(0)).type().dtype()))) +
         ", \"epilogue\": " + quoted(epilogue) + "}";
}

} // namespace

Status parc::rt::writeProfileJson(const std::string &path, const pa::Program &program,
                                  const Executor &executor, int runs,
                                  const std::string &device) {
  const std::vector<double> &ms = executor.instructionMilliseconds();
  const std::vector<std::string> &labels = executor.instructionLabels();
  std::ofstream file(path);
  file << "{\"device\": " << quoted(device) << ", \"runs\": " << runs
       << ", \"instructions\": [\n";
  for (int i = 0; i < program.instructions_size(); ++i) {
    const pa::Instruction &inst = program.instructions(i);
    uint64_t bytes = 0;
    for (int id : inst.operands())
      bytes += bytesOf(program.values(id));
    for (int id : inst.results())
      bytes += bytesOf(program.values(id));
    std::string kind = inst.kernel().kind();
    bool gemm = inst.op() == "matmul" || kind == "gemm";
    std::string epilogue = inst.kernel().epilogue().empty() ? "none" : inst.kernel().epilogue();
    std::string shape = gemm ? gemmShape(program, inst, epilogue) : "";
    file << (i ? ",\n" : "") << "  {\"index\": " << i << ", \"label\": "
         << quoted(i < static_cast<int>(labels.size()) ? labels[i] : "") << ", \"op\": "
         << quoted(inst.op()) << ", \"kind\": " << quoted(kind)
         << ", \"kernel\": " << (inst.has_kernel() ? inst.kernel().kernel() : -1)
         << ", \"bytes\": " << bytes
         << ", \"ms\": " << (i < static_cast<int>(ms.size()) ? ms[i] / runs : 0.0)
         << (shape.empty() ? "" : ", \"gemm\": " + shape) << "}";
  }
  file << "\n]}\n";
  if (!file)
    return Status::error("--profile-json " + path + ": cannot write the file");
  return Status::ok();
}
