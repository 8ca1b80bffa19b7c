//===- MultiProcess.h - tests that run one process per rank -----*- C++ -*-===//
//
// Forks one child per rank before anything starts a thread; the children connect over
// 127.0.0.1 through a fresh rendezvous folder, run the test body and exit with 0 or 1.
// The parent fails the test on any non-zero exit, crash, or missed deadline, killing the
// children it started.
//
//===----------------------------------------------------------------------===//

#ifndef PARC_RUNTIME_UNITTESTS_MULTIPROCESS_H
#define PARC_RUNTIME_UNITTESTS_MULTIPROCESS_H

#include "parc/Runtime/Communicator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parc::rt::test {

using Clock = std::chrono::steady_clock;

/// The body one rank runs in its own process: returns "" on success, else what
/// went wrong.
using RankBody = std::function<std::string(int rank, const std::string &dir)>;

/// A fresh folder under $TMPDIR (or /tmp), removed with its contents at the
/// end.
struct TempDir {
  std::string path;
  TempDir() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/parc-comm-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()))
      path = buffer.data();
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty())
      std::filesystem::remove_all(path, ignored);
  }
};

/// Forks one process per entry of `ranks` running `body(rank, dir)` with a
/// shared fresh rendezvous folder, and waits for all of them for at most
/// `deadlineSeconds`.
inline ::testing::AssertionResult runProcesses(const std::vector<int> &ranks,
                                        const RankBody &body,
                                        double deadlineSeconds = 20) {
  TempDir dir;
  if (dir.path.empty())
    return ::testing::AssertionFailure() << "cannot create a temp folder";
  std::fflush(stdout);
  std::fflush(stderr);
  std::vector<pid_t> children;
  for (int rank : ranks) {
    pid_t pid = fork();
    if (pid < 0) {
      for (pid_t child : children) {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
      }
      return ::testing::AssertionFailure() << "fork failed";
    }
    if (pid == 0) {
      int code = 1;
      try {
        std::string problem = body(rank, dir.path);
        if (problem.empty())
          code = 0;
        else
          std::fprintf(stderr, "rank %d: %s\n", rank, problem.c_str());
      } catch (const std::exception &e) {
        std::fprintf(stderr, "rank %d: exception: %s\n", rank, e.what());
      }
      std::fflush(stderr);
      _exit(code);
    }
    children.push_back(pid);
  }

  std::vector<std::string> problems;
  std::vector<bool> done(children.size(), false);
  size_t left = children.size();
  Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(deadlineSeconds));
  while (left > 0 && Clock::now() < deadline) {
    for (size_t i = 0; i < children.size(); ++i) {
      int status = 0;
      if (done[i] || waitpid(children[i], &status, WNOHANG) != children[i])
        continue;
      done[i] = true;
      --left;
      std::string who = "rank " + std::to_string(ranks[i]);
      if (WIFSIGNALED(status))
        problems.push_back(who + " died of signal " +
                           std::to_string(WTERMSIG(status)));
      else if (WEXITSTATUS(status) != 0)
        problems.push_back(who + " exited with " +
                           std::to_string(WEXITSTATUS(status)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (size_t i = 0; i < children.size(); ++i) {
    if (done[i])
      continue;
    kill(children[i], SIGKILL);
    waitpid(children[i], nullptr, 0);
    problems.push_back("rank " + std::to_string(ranks[i]) +
                       " missed the deadline and was killed");
  }
  if (problems.empty())
    return ::testing::AssertionSuccess();
  ::testing::AssertionResult failure = ::testing::AssertionFailure();
  for (const std::string &problem : problems)
    failure << problem << "; ";
  return failure;
}

/// Runs `body` as ranks 0 .. world-1.
inline ::testing::AssertionResult runRanks(int world, const RankBody &body,
                                    double deadlineSeconds = 20) {
  std::vector<int> ranks(world);
  for (int r = 0; r < world; ++r)
    ranks[r] = r;
  return runProcesses(ranks, body, deadlineSeconds);
}

/// Returns from the rank body with a message when `expr` fails.
#define RANK_CHECK_OK(expr)                                                    \
  do {                                                                         \
    Status checkStatus = (expr);                                               \
    if (!checkStatus.isOk())                                                   \
      return std::string(#expr) + ": " + checkStatus.message();                \
  } while (false)

/// Returns from the rank body with `problem` when it is not empty.
#define RANK_CHECK(problem)                                                    \
  do {                                                                         \
    std::string checkProblem = (problem);                                      \
    if (!checkProblem.empty())                                                 \
      return checkProblem;                                                     \
  } while (false)

/// Connects `rank` of `world` or returns from the rank body with the error.
#define RANK_CONNECT(context, rank, world, dir, timeout)                       \
  Status context##Status;                                                      \
  std::unique_ptr<CommContext> context =                                       \
      CommContext::connect(rank, world, dir, timeout, context##Status);        \
  if (!context)                                                                \
    return "connect: " + context##Status.message();

} // namespace parc::rt::test

#endif // PARC_RUNTIME_UNITTESTS_MULTIPROCESS_H
