//===- LaunchOptions.cpp - parc-run's command line ------------------------===//

#include "LaunchOptions.h"

#include "parc/Runtime/Rendezvous.h"

#include <cstdlib>
#include <set>

using namespace parc::rt;

const char *parc::rt::launchUsage() {
  return "usage: parc-run MODEL.parc --input NAME=FILE.npy [--input ...] "
         "[--output-dir DIR] [--nproc N] [--threads T] [--timeout SECONDS] "
         "[--repeat N] [--report] [--profile] [--profile-json FILE] [--trace TRACE.json] "
         "[--cuda-graphs] [--verify] "
         "[--steps N] [--save DIR [--save-every K]] [--resume DIR] [--max-restarts N]\n"
         "       [--nnodes K --node-rank R [--nproc-per-node P]] [--master-addr HOST] "
         "[--master-port PORT] [--rendezvous tcp|redis://HOST:PORT|file:///DIR] "
         "[--node-addr ADDR] [--rendezvous-timeout SECONDS] [--print-env] [--quiet]\n"
         "       parc-run --cuda-libraries\n";
}

/// Parses a positive integer flag value.
static bool parseCount(const std::string &text, int &value) {
  char *end = nullptr;
  long parsed = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || parsed < 1 || parsed > 1 << 20)
    return false;
  value = static_cast<int>(parsed);
  return true;
}

Status parc::rt::parseLaunchOptions(int argc, char **argv,
                                    LaunchOptions &options) {
  std::set<std::string> names;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool hasValue = false;
    // Accept both --flag=value and --flag value.
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasValue = true;
      }
    }
    auto takeValue = [&]() -> Status {
      if (hasValue)
        return Status::ok();
      if (i + 1 >= argc)
        return Status::error(arg + " needs a value");
      value = argv[++i];
      return Status::ok();
    };
    if (arg == "--help" || arg == "-h") {
      options.help = true;
      return Status::ok();
    }
    if (arg == "--cuda-libraries") {
      if (hasValue)
        return Status::error("--cuda-libraries takes no value");
      options.cudaLibraries = true;
      continue;
    }
    if (arg == "--input") {
      PARC_RETURN_IF_ERROR(takeValue());
      size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
        return Status::error("--input '" + value +
                             "': expected NAME=FILE.npy");
      std::string name = value.substr(0, eq);
      if (!names.insert(name).second)
        return Status::error("--input gives '" + name + "' twice");
      options.inputs.push_back({name, value.substr(eq + 1)});
    } else if (arg == "--output-dir") {
      PARC_RETURN_IF_ERROR(takeValue());
      options.outputDir = value;
    } else if (arg == "--nproc") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.nproc))
        return Status::error("--nproc '" + value + "': expected a positive number");
    } else if (arg == "--threads") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.threads))
        return Status::error("--threads '" + value + "': expected a positive number");
    } else if (arg == "--timeout") {
      PARC_RETURN_IF_ERROR(takeValue());
      char *end = nullptr;
      options.timeoutSeconds = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || options.timeoutSeconds <= 0)
        return Status::error("--timeout '" + value + "': expected seconds > 0");
    } else if (arg == "--repeat") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.repeat))
        return Status::error("--repeat '" + value + "': expected a positive number");
    } else if (arg == "--report") {
      if (hasValue)
        return Status::error("--report takes no value");
      options.report = true;
    } else if (arg == "--profile") {
      if (hasValue)
        return Status::error("--profile takes no value");
      options.profile = true;
    } else if (arg == "--verify") {
      if (hasValue)
        return Status::error("--verify takes no value");
      options.verify = true;
    } else if (arg == "--cuda-graphs") {
      if (hasValue)
        return Status::error("--cuda-graphs takes no value");
      options.cudaGraphs = true;
    } else if (arg == "--profile-json") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (value.empty())
        return Status::error("--profile-json needs a file name");
      options.profileJsonPath = value;
    } else if (arg == "--steps") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.steps))
        return Status::error("--steps '" + value + "': expected a positive number");
    } else if (arg == "--save") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (value.empty())
        return Status::error("--save needs a folder");
      options.saveDir = value;
    } else if (arg == "--resume") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (value.empty())
        return Status::error("--resume needs a folder");
      options.resumeDir = value;
    } else if (arg == "--trace") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (value.empty())
        return Status::error("--trace needs a file name");
      options.tracePath = value;
    } else if (arg == "--save-every") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.saveEvery))
        return Status::error("--save-every '" + value + "': expected a positive number of steps");
    } else if (arg == "--max-restarts") {
      PARC_RETURN_IF_ERROR(takeValue());
      char *end = nullptr;
      long count = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || count < 0 || count > 1000)
        return Status::error("--max-restarts '" + value + "': expected a number of restarts (0-1000)");
      options.maxRestarts = static_cast<int>(count);
    } else if (arg == "--worker-first-step") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.firstStep))
        return Status::error("--worker-first-step '" + value + "': expected a step number");
    } else if (arg == "--worker-restart") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.restart))
        return Status::error("--worker-restart '" + value + "': expected a restart number");
    } else if (arg == "--nnodes") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.nnodes))
        return Status::error("--nnodes '" + value + "': expected a positive number");
    } else if (arg == "--node-rank") {
      PARC_RETURN_IF_ERROR(takeValue());
      char *end = nullptr;
      long rank = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || rank < 0 || rank >= 1 << 20)
        return Status::error("--node-rank '" + value + "': expected a node index (0, 1, ...)");
      options.nodeRank = static_cast<int>(rank);
    } else if (arg == "--nproc-per-node") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.nprocPerNode))
        return Status::error("--nproc-per-node '" + value + "': expected a positive number");
    } else if (arg == "--master-addr") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (value.empty())
        return Status::error("--master-addr needs a host name or address");
      options.masterAddr = value;
    } else if (arg == "--master-port") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (!parseCount(value, options.masterPort) || options.masterPort > 65535)
        return Status::error("--master-port '" + value + "': expected a port (1-65535)");
    } else if (arg == "--rendezvous") {
      PARC_RETURN_IF_ERROR(takeValue());
      options.rendezvous = value;
    } else if (arg == "--node-addr") {
      PARC_RETURN_IF_ERROR(takeValue());
      if (value.empty())
        return Status::error("--node-addr needs an address");
      options.nodeAddr = value;
    } else if (arg == "--rendezvous-timeout") {
      PARC_RETURN_IF_ERROR(takeValue());
      char *end = nullptr;
      options.rendezvousTimeoutSeconds = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(options.rendezvousTimeoutSeconds > 0))
        return Status::error("--rendezvous-timeout '" + value + "': expected seconds > 0");
    } else if (arg == "--quiet") {
      if (hasValue)
        return Status::error("--quiet takes no value");
      options.quiet = true;
    } else if (arg == "--print-env") {
      if (hasValue)
        return Status::error("--print-env takes no value");
      options.printEnv = true;
    } else if (arg == "--worker-rank") {
      PARC_RETURN_IF_ERROR(takeValue());
      options.worker = true;
      char *end = nullptr;
      long rank = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || rank < 0 || rank >= 1 << 20)
        return Status::error("--worker-rank '" + value + "': expected a rank number");
      options.rank = static_cast<int>(rank);
    } else if (arg == "--worker-dir") {
      PARC_RETURN_IF_ERROR(takeValue());
      options.workDir = value;
    } else if (arg.rfind("-", 0) == 0) {
      return Status::error("unknown option '" + arg + "'");
    } else if (options.artifact.empty()) {
      options.artifact = arg;
    } else {
      return Status::error("unexpected argument '" + arg +
                           "' (one artifact at a time)");
    }
  }
  if (options.saveEvery > 0 && options.saveDir.empty())
    return Status::error("--save-every needs --save DIR (where the checkpoints go)");
  if (!options.rendezvous.empty()) {
    RendezvousOptions parsed;
    PARC_RETURN_IF_ERROR(parseRendezvous(options.rendezvous, parsed));
  }
  if (options.nnodes == 1 && (options.nodeRank > 0 || options.nprocPerNode > 0) && !options.worker)
    return Status::error(options.nodeRank > 0
                             ? "--node-rank=" + std::to_string(options.nodeRank) +
                                   " needs --nnodes (the number of machines)"
                             : std::string("--nproc-per-node needs --nnodes (use --nproc on one machine)"));
  if (options.artifact.empty() && !options.cudaLibraries && !options.printEnv)
    return Status::error("no artifact given");
  if (!options.artifact.empty() && options.cudaLibraries)
    return Status::error("--cuda-libraries takes no artifact");
  return Status::ok();
}
