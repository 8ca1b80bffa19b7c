//===- parc-calibrate.cpp - measure this machine into a profile -----------===//
//
// parc-calibrate -o FILE [--ranks N] [--quick]
//
// Measures the machine parc-run's CPU backend runs on and writes a machine profile
// (docs/planner.md, "Machine profiles") that prices plans for it: the f32 GEMM throughput
// of one core over square sizes (OpenBLAS, as the backend calls it), the streaming rate
// of one core running the backend's elementwise kernel and how much of it the backend's
// transpose reaches, the cost of the smallest GEMM call, and one ring alpha-beta fit of Gloo
// all-reduces, all-gathers and sends between N local ranks (the transport parc-run
// uses). A device of the
// profile is one core; devices_per_node is the core count.
//
// The ranks are forked first, before OpenBLAS or OpenMP start any thread. The profile is
// written to FILE.tmp and renamed, so a failed run leaves nothing behind.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Communicator.h"

#include "CpuKernels.h"

#include <algorithm>
#include <cblas.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace parc::rt;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string output;
  int ranks = 2;
  bool quick = false;
};

const char *kUsage = "usage: parc-calibrate -o FILE.json [--ranks N] [--quick]\n";

int fail(const std::string &message) {
  std::cerr << "parc-calibrate: error: " << parc::rt::printableOneLine(message) << "\n";
  return 1;
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The fastest of repeated runs of `body`, repeated until `budget` seconds have passed
/// (at least `minimumRuns` times).
template <typename Body>
double fastestSeconds(Body body, double budget, int minimumRuns = 3) {
  body(); // Warm caches and lazy initialization.
  double best = 1e30;
  Clock::time_point start = Clock::now();
  for (int run = 0; run < minimumRuns || secondsSince(start) < budget; ++run) {
    Clock::time_point begin = Clock::now();
    body();
    best = std::min(best, secondsSince(begin));
  }
  return best;
}

//===----------------------------------------------------------------------===//
// Links: Gloo collectives between local ranks
//===----------------------------------------------------------------------===//

struct LinkFit {
  double bandwidth = 0; // bytes/s
  double latency = 0;   // s per ring step
};

/// The collectives measured, and what the ring form says each costs: `steps` latencies
/// and `volume` times its bytes at the link's bandwidth.
enum class Collective { AllReduce, AllGather, Send };
struct Measurement {
  Collective kind;
  int64_t bytes;
  double seconds;
};

double ringSteps(Collective kind, int ranks) {
  switch (kind) {
  case Collective::AllReduce:
    return 2.0 * (ranks - 1);
  case Collective::AllGather:
    return ranks - 1.0;
  case Collective::Send:
    return 1;
  }
  return 0;
}

double ringVolume(Collective kind, int ranks, double bytes) {
  return kind == Collective::Send ? bytes : ringSteps(kind, ranks) / ranks * bytes;
}

/// Runs `once` until `budget` has passed (at least 3 times, all ranks the same number:
/// after each run they sum their "want more" flags) and returns the fastest run as rank 0
/// saw it, or a negative time on failure.
double timeCollective(Communicator &world, int ranks, double budget,
                      const std::function<Status()> &once) {
  if (!once()) // Warm the connections and buffers at this size.
    return -1;
  double best = 1e30;
  Clock::time_point start = Clock::now();
  for (int repetitions = 1;; ++repetitions) {
    if (!world.barrier())
      return -1;
    Clock::time_point begin = Clock::now();
    if (!once())
      return -1;
    best = std::min(best, secondsSince(begin));
    float more = (repetitions < 3 || secondsSince(start) < budget) ? 1.0f : 0.0f;
    TensorRef flag{&more, DType::F32, {1}};
    if (!world.allReduceSum(flag))
      return -1;
    if (more < static_cast<float>(ranks) - 0.5f)
      return best;
  }
}

/// One rank's part: all-reduces, all-gathers (of a buffer of each size, gathered) and
/// sends from rank 0 to rank 1 of each size. Rank 0 writes "kind bytes seconds" lines.
int measureCollectives(int rank, int ranks, const std::string &dir,
                       const std::vector<int64_t> &sizes, double budget,
                       const std::string &results) {
  auto error = [&](const std::string &what) {
    return fail("rank " + std::to_string(rank) + ": " + what);
  };
  Status status;
  std::unique_ptr<CommContext> context = CommContext::connect(rank, ranks, dir, 60, status);
  if (!context)
    return error(status.message());
  Communicator *world = context->world(status);
  if (!world)
    return error(status.message());
  std::ofstream out;
  if (rank == 0)
    out.open(results);
  for (int64_t bytes : sizes) {
    int64_t elements = bytes / sizeof(float);
    std::vector<float> buffer(elements, 1.0f), part(elements / ranks, 1.0f);
    TensorRef whole{buffer.data(), DType::F32, {elements}};
    TensorRef mine{part.data(), DType::F32, {elements / ranks}};
    TensorRef gathered{buffer.data(), DType::F32, {elements / ranks * ranks}};
    std::pair<Collective, std::function<Status()>> runs[] = {
        {Collective::AllReduce, [&] { return world->allReduceSum(whole); }},
        {Collective::AllGather, [&] { return world->allGather(mine, 0, gathered); }},
        {Collective::Send, [&]() -> Status {
           if (rank == 0)
             return world->isend(whole, 1, 7).wait();
           if (rank == 1)
             return world->irecv(whole, 0, 7).wait();
           return Status::ok();
         }}};
    for (auto &[kind, once] : runs) {
      double seconds = timeCollective(*world, ranks, budget, once);
      if (seconds < 0)
        return error("a collective of " + std::to_string(bytes) + " bytes failed");
      if (rank == 0)
        out << static_cast<int>(kind) << " " << bytes << " " << seconds << "\n";
    }
  }
  return 0;
}

/// Forks `ranks` processes that measure the collectives, waits for them, and fits one
/// latency and bandwidth to all the measurements: t = steps * latency + volume /
/// bandwidth. The latency is what the smallest messages cost per ring step; the bandwidth
/// is then the least-squares fit of the rest (absolute error, so the large messages, which
/// leave the caches and are the ones plans move, decide it: gradient buckets and logits are
/// tens to hundreds of MB, and Gloo moves them at a third of its in-cache rate here).
bool measureLink(int ranks, bool quick, LinkFit &fit, std::string &error) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("parc-calibrate-" + std::to_string(getpid())))
                        .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string results = dir + "/results.txt";
  std::vector<int64_t> sizes = {4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20};
  if (!quick)
    sizes.push_back(128 << 20);
  double budget = quick ? 0.02 : 0.1;
  std::vector<pid_t> children;
  for (int rank = 0; rank < ranks; ++rank) {
    pid_t pid = fork();
    if (pid < 0) {
      error = "cannot fork rank " + std::to_string(rank) + ": " + std::strerror(errno);
      return false;
    }
    if (pid == 0)
      _exit(measureCollectives(rank, ranks, dir + "/store", sizes, budget, results));
    children.push_back(pid);
  }
  bool ok = true;
  for (pid_t child : children) {
    int code = 0;
    if (waitpid(child, &code, 0) < 0 || !WIFEXITED(code) || WEXITSTATUS(code) != 0)
      ok = false;
  }
  std::vector<Measurement> measurements;
  std::ifstream in(results);
  for (int kind; in >> kind;) {
    Measurement m{static_cast<Collective>(kind), 0, 0};
    in >> m.bytes >> m.seconds;
    measurements.push_back(m);
  }
  std::filesystem::remove_all(dir);
  if (!ok || measurements.size() != 3 * sizes.size()) {
    error = "measuring collectives between " + std::to_string(ranks) +
            " local ranks failed (see the ranks' errors above)";
    return false;
  }
  double latency = 0;
  int smallest = 0;
  for (const Measurement &m : measurements)
    if (m.bytes == sizes.front()) {
      latency += m.seconds / ringSteps(m.kind, ranks);
      ++smallest;
    }
  latency /= smallest;
  // min sum (v g - (t - s latency))^2 over g.
  double vv = 0, vt = 0;
  for (const Measurement &m : measurements) {
    double s = ringSteps(m.kind, ranks), v = ringVolume(m.kind, ranks, m.bytes);
    vv += v * v;
    vt += v * (m.seconds - s * latency);
  }
  double inverseBandwidth = vt / vv;
  if (!(inverseBandwidth > 0)) {
    error = "collective times do not grow with size; cannot fit a bandwidth";
    return false;
  }
  fit.bandwidth = 1 / inverseBandwidth;
  fit.latency = std::max(0.0, latency);
  return true;
}

//===----------------------------------------------------------------------===//
// One core: GEMMs, memory bandwidth, call latency
//===----------------------------------------------------------------------===//

struct GemmPoint {
  double flops, flopsPerSecond;
};

std::vector<GemmPoint> measureGemms(bool quick) {
  std::vector<int> sizes = {32, 64, 128, 256, 512};
  if (!quick)
    sizes.push_back(1024);
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<GemmPoint> points;
  for (int n : sizes) {
    std::vector<float> a(n * n), b(n * n), c(n * n);
    for (float &x : a)
      x = uniform(random);
    for (float &x : b)
      x = uniform(random);
    double seconds = fastestSeconds(
        [&] {
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n,
                      b.data(), n, 0.0f, c.data(), n);
        },
        quick ? 0.02 : 0.2);
    double flops = 2.0 * n * n * n;
    points.push_back({flops, flops / seconds});
  }
  return points;
}

/// The streaming rate of the backend's own elementwise kernel (an f32 add of two large
/// tensors: read twice, written once), in bytes/s: what memory-bound ops reach, which is
/// less than a memcpy's.
double measureMemoryBandwidth(bool quick) {
  int64_t elements = int64_t(quick ? 16 : 32) << 20;
  std::vector<float> a(elements, 1.0f), b(elements, 2.0f), c(elements, 0.0f);
  TensorRef lhs{a.data(), DType::F32, {elements}}, rhs{b.data(), DType::F32, {elements}};
  TensorRef out{c.data(), DType::F32, {elements}};
  double seconds = fastestSeconds([&] { (void)cpu::binary(cpu::BinaryOp::Add, lhs, rhs, out); },
                                  quick ? 0.05 : 0.3);
  return 3.0 * elements * sizeof(float) / seconds;
}

/// The memory bandwidth the cores share: one process per core, each streaming the
/// backend's elementwise add over its own large tensors for the same stretch of time; the
/// sum of their median rates. Every process allocates and touches its tensors first and
/// then waits at a start barrier (the parent closing a pipe), so that no process streams
/// alone while the others are still faulting their pages in: the rates are those of all
/// cores at once. (Forked before anything starts a thread.)
bool measureNodeBandwidth(int cores, bool quick, double &bandwidth, std::string &error) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("parc-calibrate-memory-" + std::to_string(getpid())))
                        .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  double duration = quick ? 0.15 : 0.4;
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) {
    error = "cannot make the start barrier's pipes: " + std::string(std::strerror(errno));
    return false;
  }
  std::vector<pid_t> children;
  for (int core = 0; core < cores; ++core) {
    pid_t pid = fork();
    if (pid < 0) {
      error = "cannot fork a process per core: " + std::string(std::strerror(errno));
      break;
    }
    if (pid == 0) {
      close(ready[0]);
      close(go[1]);
      cpu::setCpuThreads(1);
      int64_t elements = int64_t(16) << 20;
      std::vector<float> a(elements, 1.0f), b(elements, 2.0f), c(elements, 0.0f);
      TensorRef lhs{a.data(), DType::F32, {elements}}, rhs{b.data(), DType::F32, {elements}};
      TensorRef out{c.data(), DType::F32, {elements}};
      char byte = 1;
      bool signalled = write(ready[1], &byte, 1) == 1;
      close(ready[1]); // so that the parent's read ends if a sibling dies before signalling
      if (!signalled || read(go[0], &byte, 1) != 0)
        _exit(1); // The parent closes `go` without writing: read returns 0 for all at once.
      std::vector<double> rates;
      Clock::time_point start = Clock::now();
      while (secondsSince(start) < duration || rates.size() < 3) {
        Clock::time_point begin = Clock::now();
        (void)cpu::binary(cpu::BinaryOp::Add, lhs, rhs, out);
        rates.push_back(3.0 * elements * sizeof(float) / secondsSince(begin));
      }
      std::sort(rates.begin(), rates.end());
      std::ofstream(dir + "/" + std::to_string(core)) << rates[rates.size() / 2] << "\n";
      _exit(0);
    }
    children.push_back(pid);
  }
  close(ready[1]);
  close(go[0]);
  // Wait until every child holds its tensors (or has died: read then returns 0).
  char byte;
  for (size_t waiting = children.size(); waiting > 0 && read(ready[0], &byte, 1) == 1;)
    --waiting;
  close(ready[0]);
  close(go[1]); // Start them all.
  bool ok = children.size() == size_t(cores);
  for (pid_t child : children) {
    int code = 0;
    if (waitpid(child, &code, 0) < 0 || !WIFEXITED(code) || WEXITSTATUS(code) != 0)
      ok = false;
  }
  bandwidth = 0;
  for (int core = 0; ok && core < cores; ++core) {
    double rate = 0;
    if (!(std::ifstream(dir + "/" + std::to_string(core)) >> rate) || !(rate > 0))
      ok = false;
    bandwidth += rate;
  }
  std::filesystem::remove_all(dir);
  if (!ok && error.empty())
    error = "measuring the memory bandwidth of " + std::to_string(cores) + " cores failed";
  return ok;
}

/// The backend's transpose of a large f32 matrix (the innermost dim moved: a weight's
/// transpose in a backward pass) as a fraction of `bandwidth`.
double measureTransposeEfficiency(bool quick, double bandwidth) {
  int64_t rows = 32768, columns = 768; // 96 MiB: beyond the caches, as weights are
  std::vector<float> from(rows * columns, 1.0f), to(rows * columns, 0.0f);
  TensorRef in{from.data(), DType::F32, {rows, columns}};
  TensorRef out{to.data(), DType::F32, {columns, rows}};
  double seconds = fastestSeconds([&] { cpu::transpose(in, {1, 0}, out); }, quick ? 0.05 : 0.3);
  return std::min(1.0, 2.0 * rows * columns * sizeof(float) / seconds / bandwidth);
}

/// The time of a 1x1x1 GEMM call: what any kernel costs however small.
double measureCallLatency() {
  float a = 1, b = 1, c = 0;
  constexpr int kCalls = 20000;
  return fastestSeconds(
             [&] {
               for (int i = 0; i < kCalls; ++i)
                 cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0f, &a, 1,
                             &b, 1, 0.0f, &c, 1);
             },
             0.02) /
         kCalls;
}

std::string cpuModel() {
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);)
    if (line.rfind("model name", 0) == 0) {
      std::string name = line.substr(line.find(':') + 1);
      name.erase(0, name.find_first_not_of(' '));
      std::string escaped;
      for (char c : name)
        if (c != '"' && c != '\\')
          escaped += c;
      return escaped;
    }
  return "unknown CPU";
}

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

/// The best throughput of the GEMM sizes: the profile's peak.
double peakOf(const std::vector<GemmPoint> &gemms) {
  double peak = 0;
  for (const GemmPoint &point : gemms)
    peak = std::max(peak, point.flopsPerSecond);
  return peak;
}

std::string profileJson(const std::vector<GemmPoint> &gemms, double peak, double bandwidth,
                        double transposeEfficiency, double nodeBandwidth, double callLatency, const LinkFit &link, int ranks) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
  std::ostringstream curve;
  for (size_t i = 0; i < gemms.size(); ++i)
    curve << (i ? ", " : "") << "[" << number(gemms[i].flops) << ", "
          << number(std::min(1.0, gemms[i].flopsPerSecond / peak)) << "]";
  std::string linkJson = "{\"bandwidth\": " + number(link.bandwidth) +
                         ", \"efficiency\": 1, \"latency\": " + number(link.latency) + "}";
  std::ostringstream json;
  json << "{\n"
       << "  \"name\": \"cpu-local\",\n"
       << "  \"description\": \"measured by parc-calibrate: one core of " << cpuModel()
       << " per device, " << cores << " cores, Gloo collectives between " << ranks
       << " local ranks\",\n"
       << "  \"device\": {\n"
       << "    \"name\": \"cpu-core\",\n"
       << "    \"peak_flops\": {\"f32\": " << number(peak) << "},\n"
       << "    \"memory_bytes\": " << number(memory) << ",\n"
       << "    \"memory_bandwidth\": " << number(bandwidth) << ",\n"
       << "    \"memory_efficiency\": 1,\n"
       << "    \"transpose_efficiency\": " << number(transposeEfficiency) << ",\n"
       << "    \"kernel_latency\": " << number(callLatency) << ",\n"
       << "    \"gemm_efficiency\": [" << curve.str() << "]\n"
       << "  },\n"
       << "  \"devices_per_node\": " << cores << ",\n"
       << "  \"node_memory_bandwidth\": " << number(nodeBandwidth) << ",\n"
       << "  \"intra_node\": " << linkJson << ",\n"
       << "  \"inter_node\": " << linkJson << ",\n"
       << "  \"collective_algorithm\": \"ring\"\n"
       << "}\n";
  return json.str();
}

bool parseOptions(int argc, char **argv, Options &options, std::string &error, bool &help) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &into) {
      if (i + 1 >= argc) {
        error = arg + " needs a value";
        return false;
      }
      into = argv[++i];
      return true;
    };
    std::string text;
    if (arg == "--help" || arg == "-h") {
      help = true;
      return true;
    } else if (arg == "-o") {
      if (!value(options.output))
        return false;
    } else if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--ranks") {
      if (!value(text))
        return false;
      char *end = nullptr;
      long ranks = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end || ranks < 2 || ranks > 64) {
        error = "--ranks '" + text + "': expected a count from 2 to 64";
        return false;
      }
      options.ranks = static_cast<int>(ranks);
    } else {
      error = "unknown option '" + arg + "'";
      return false;
    }
  }
  if (!help && options.output.empty()) {
    error = "no output file (-o FILE.json)";
    return false;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  std::string error;
  bool help = false;
  if (!parseOptions(argc, argv, options, error, help)) {
    std::cerr << kUsage;
    return fail(error);
  }
  if (help) {
    std::cout << kUsage
              << "Measures this machine (one core's GEMMs and memory bandwidth, Gloo "
                 "collectives between local ranks) into a machine profile for the cost "
                 "model; docs/planner.md describes the format.\n";
    return 0;
  }
  Clock::time_point start = Clock::now();
  // Processes first: they are forked before OpenBLAS or OpenMP start threads.
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  double nodeBandwidth = 0;
  if (!measureNodeBandwidth(cores, options.quick, nodeBandwidth, error))
    return fail(error);
  LinkFit link;
  if (!measureLink(options.ranks, options.quick, link, error))
    return fail(error);
  cpu::setCpuThreads(1); // one core: OpenBLAS and the backend's own loops
  std::vector<GemmPoint> gemms = measureGemms(options.quick);
  double bandwidth = measureMemoryBandwidth(options.quick);
  double transposeEfficiency = measureTransposeEfficiency(options.quick, bandwidth);
  double callLatency = measureCallLatency();
  double peak = peakOf(gemms);
  std::string json =
      profileJson(gemms, peak, bandwidth, transposeEfficiency, nodeBandwidth, callLatency, link,
                  options.ranks);
  std::string partial = options.output + ".tmp";
  {
    std::ofstream out(partial);
    out << json;
    if (!out)
      return fail(options.output + ": cannot write the profile");
  }
  std::error_code renamed;
  std::filesystem::rename(partial, options.output, renamed);
  if (renamed) {
    std::filesystem::remove(partial);
    return fail(options.output + ": " + renamed.message());
  }
  std::printf("parc-calibrate: wrote %s in %.1f s: f32 GEMM %.1f GFLOP/s per core, memory "
              "%.1f GB/s (transposes %.0f%% of it; %.1f GB/s for all %u cores), link %.2f GB/s with %.1f us per step\n",
              options.output.c_str(), secondsSince(start), peak / 1e9, bandwidth / 1e9,
              100 * transposeEfficiency, nodeBandwidth / 1e9, cores, link.bandwidth / 1e9, link.latency * 1e6);
  return 0;
}
