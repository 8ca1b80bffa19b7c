//===- parc-calibrate.cpp - measure this machine into a profile -----------===//
//
// parc-calibrate -o FILE [--ranks N] [--quick]
//
// Measures the machine parc-run's CPU backend runs on and writes a machine profile
// (docs/planner.md, "Machine profiles") that prices plans for it: the f32 GEMM throughput
// of one core over square sizes (OpenBLAS, as the backend calls it), one core's memory
// bandwidth, the cost of the smallest GEMM call, and the ring alpha-beta fit of Gloo
// all-reduces between N local ranks (the transport parc-run uses). A device of the
// profile is one core; devices_per_node is the core count.
//
// The ranks are forked first, before OpenBLAS or OpenMP start any thread. The profile is
// written to FILE.tmp and renamed, so a failed run leaves nothing behind.
//
//===----------------------------------------------------------------------===//

#include "parc/Runtime/Communicator.h"

#include <algorithm>
#include <cblas.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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
  std::cerr << "parc-calibrate: error: " << message << "\n";
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
// Links: Gloo all-reduces between local ranks
//===----------------------------------------------------------------------===//

struct LinkFit {
  double bandwidth = 0; // bytes/s
  double latency = 0;   // s per ring step
};

/// One rank's part: all-reduces of each size, timed by rank 0 (the slowest rank's view
/// is rank 0's, as every all-reduce ends when all ranks have contributed). Rank 0 writes
/// "bytes seconds" lines to `results`.
int measureAllReduces(int rank, int ranks, const std::string &dir,
                      const std::vector<int64_t> &sizes, double budget,
                      const std::string &results) {
  Status status;
  std::unique_ptr<CommContext> context = CommContext::connect(rank, ranks, dir, 60, status);
  if (!context)
    return fail("rank " + std::to_string(rank) + ": " + status.message());
  Communicator *world = context->world(status);
  if (!world)
    return fail("rank " + std::to_string(rank) + ": " + status.message());
  std::ofstream out;
  if (rank == 0)
    out.open(results);
  for (int64_t bytes : sizes) {
    std::vector<float> buffer(bytes / sizeof(float), 1.0f);
    TensorRef tensor{buffer.data(), DType::F32, {static_cast<int64_t>(buffer.size())}};
    // Every rank runs the same number of repetitions: after each, the ranks sum their
    // "want more" flags and stop together once one is done.
    Status reduced;
    auto once = [&] { reduced = world->allReduceSum(tensor); };
    once(); // Warm the connections and buffers at this size.
    if (!reduced)
      return fail("rank " + std::to_string(rank) + ": " + reduced.message());
    double best = 1e30;
    int repetitions = 0;
    Clock::time_point start = Clock::now();
    while (true) {
      if (!world->barrier())
        return fail("rank " + std::to_string(rank) + ": barrier failed");
      Clock::time_point begin = Clock::now();
      once();
      if (!reduced)
        return fail("rank " + std::to_string(rank) + ": " + reduced.message());
      best = std::min(best, secondsSince(begin));
      ++repetitions;
      // Agree on stopping: the sum over ranks of "want more" flags.
      float more = (repetitions < 3 || secondsSince(start) < budget) ? 1.0f : 0.0f;
      TensorRef flag{&more, DType::F32, {1}};
      if (!world->allReduceSum(flag))
        return fail("rank " + std::to_string(rank) + ": agreeing on repetitions failed");
      if (more < static_cast<float>(ranks) - 0.5f)
        break;
    }
    if (rank == 0)
      out << bytes << " " << best << "\n";
  }
  return 0;
}

/// Forks `ranks` processes that measure all-reduces, waits for them, and fits
/// t(bytes) = 2 (r-1) latency + 2 (r-1)/r bytes / bandwidth.
bool measureLink(int ranks, bool quick, LinkFit &fit, std::string &error) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("parc-calibrate-" + std::to_string(getpid())))
                        .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string results = dir + "/results.txt";
  std::vector<int64_t> sizes = {4 << 10, 64 << 10, 1 << 20, 4 << 20};
  if (!quick)
    sizes.push_back(16 << 20);
  double budget = quick ? 0.05 : 0.3;
  std::vector<pid_t> children;
  for (int rank = 0; rank < ranks; ++rank) {
    pid_t pid = fork();
    if (pid < 0) {
      error = "cannot fork rank " + std::to_string(rank) + ": " + std::strerror(errno);
      return false;
    }
    if (pid == 0)
      _exit(measureAllReduces(rank, ranks, dir + "/store", sizes, budget, results));
    children.push_back(pid);
  }
  bool ok = true;
  for (pid_t child : children) {
    int code = 0;
    if (waitpid(child, &code, 0) < 0 || !WIFEXITED(code) || WEXITSTATUS(code) != 0)
      ok = false;
  }
  std::vector<std::pair<double, double>> points;
  std::ifstream in(results);
  for (double bytes, seconds; in >> bytes >> seconds;)
    points.emplace_back(bytes, seconds);
  std::filesystem::remove_all(dir);
  if (!ok || points.size() != sizes.size()) {
    error = "the all-reduce measurement between " + std::to_string(ranks) +
            " local ranks failed (see the ranks' errors above)";
    return false;
  }
  // Least squares of the relative error (weights 1/t^2), so that the small sizes, which
  // fix the latency, count as much as the large ones, which fix the bandwidth.
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (auto [x, y] : points) {
    double w = 1 / (y * y);
    sw += w;
    sx += w * x;
    sy += w * y;
    sxx += w * x * x;
    sxy += w * x * y;
  }
  double slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
  double intercept = (sy - slope * sx) / sw;
  if (!(slope > 0)) {
    error = "all-reduce times do not grow with size; cannot fit a bandwidth";
    return false;
  }
  double steps = 2.0 * (ranks - 1);
  fit.bandwidth = steps / ranks / slope;
  fit.latency = std::max(0.0, intercept / steps);
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

double measureMemoryBandwidth(bool quick) {
  size_t bytes = size_t(quick ? 32 : 128) << 20;
  std::vector<char> from(bytes, 1), to(bytes, 0);
  double seconds =
      fastestSeconds([&] { std::memcpy(to.data(), from.data(), bytes); }, quick ? 0.05 : 0.3);
  return 2.0 * bytes / seconds; // Read once, written once.
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

std::string profileJson(const std::vector<GemmPoint> &gemms, double bandwidth,
                        double callLatency, const LinkFit &link, int ranks) {
  double peak = 0;
  for (const GemmPoint &point : gemms)
    peak = std::max(peak, point.flopsPerSecond);
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
       << " per device, " << cores << " cores, Gloo all-reduces between " << ranks
       << " local ranks\",\n"
       << "  \"device\": {\n"
       << "    \"name\": \"cpu-core\",\n"
       << "    \"peak_flops\": {\"f32\": " << number(peak) << "},\n"
       << "    \"memory_bytes\": " << number(memory) << ",\n"
       << "    \"memory_bandwidth\": " << number(bandwidth) << ",\n"
       << "    \"memory_efficiency\": 1,\n"
       << "    \"kernel_latency\": " << number(callLatency) << ",\n"
       << "    \"gemm_efficiency\": [" << curve.str() << "]\n"
       << "  },\n"
       << "  \"devices_per_node\": " << cores << ",\n"
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
                 "all-reduces between local ranks) into a machine profile for the cost "
                 "model; docs/planner.md describes the format.\n";
    return 0;
  }
  Clock::time_point start = Clock::now();
  // Links first: the ranks are forked before OpenBLAS starts threads.
  LinkFit link;
  if (!measureLink(options.ranks, options.quick, link, error))
    return fail(error);
  openblas_set_num_threads(1);
  std::vector<GemmPoint> gemms = measureGemms(options.quick);
  double bandwidth = measureMemoryBandwidth(options.quick);
  double callLatency = measureCallLatency();
  std::string json = profileJson(gemms, bandwidth, callLatency, link, options.ranks);
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
  double peak = 0;
  for (const GemmPoint &point : gemms)
    peak = std::max(peak, point.flopsPerSecond);
  std::printf("parc-calibrate: wrote %s in %.1f s: f32 GEMM %.1f GFLOP/s per core, memory "
              "%.1f GB/s, all-reduce link %.2f GB/s with %.1f us per step\n",
              options.output.c_str(), secondsSince(start), peak / 1e9, bandwidth / 1e9,
              link.bandwidth / 1e9, link.latency * 1e6);
  return 0;
}
