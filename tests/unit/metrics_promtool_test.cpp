// Checks the exposition against Prometheus' own parser and linter (`promtool check metrics`,
// from Debian's prometheus package). Skipped when promtool is missing, except under CI (the CI
// environment variable set), where a missing promtool fails the test.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "obs/metrics.h"

namespace cgmm::obs {
namespace {

using namespace std::chrono_literals;

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Runs `promtool check metrics` with `input` on stdin. The input fits in a pipe buffer, so
// writing it all before reading cannot deadlock.
RunResult run_promtool(std::string_view input) {
  std::array<int, 2> in{};
  std::array<int, 2> out{};
  if (::pipe(in.data()) != 0 || ::pipe(out.data()) != 0) {
    return {};
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::close(in[0]);
    ::close(in[1]);
    ::close(out[0]);
    ::close(out[1]);
    ::execlp("promtool", "promtool", "check", "metrics", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  RunResult result;
  if (!write_all(in[1], input)) {
    result.output = "failed to write to promtool\n";
  }
  ::close(in[1]);
  std::array<char, 4096> buffer{};
  for (;;) {
    const auto n = ::read(out[0], buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    result.output.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool promtool_installed() {
  return std::system("command -v promtool >/dev/null 2>&1") == 0;
}

// Every family with series, labels that need escaping, an unlimited leaf, one bounded by
// memory.high, an unread one and a reclaimed one.
std::string populated_exposition() {
  const LeafLabels pod = {
      "/sys/fs/cgroup/memory/kubepods/burstable/pod0f3c1a2b-4d5e-4f60-8a7b-9c0d1e2f3a4b/"
      "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
      "0f3c1a2b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
      "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "burstable"};
  const LeafLabels odd = {"/batch/we\"ird\\name\nwith newline", "", "", ""};
  Metrics metrics("0.1.0", [&](std::string_view cgroup) {
    return cgroup == pod.cgroup ? pod : LeafLabels{std::string(cgroup), "", "", ""};
  });
  const std::vector<LeafGauges> leaves = {
      {pod.cgroup, 1, 734003200, 2147483648, 536870912, nullptr},
      {odd.cgroup, 2, 0, std::nullopt, 536870912, nullptr},
      {"/batch/throttled", 4, 1, 1073741824, 268435456, nullptr, core::LimitKind::kHigh},
      {"/batch/unread", 3, {}, {}, {}, nullptr}};
  metrics.publish_scan(2ms, leaves);
  metrics.publish_scan(40ms, leaves);
  metrics.record_error("read_stats");
  core::ReclaimOutcome done;
  done.name = pod.cgroup;
  done.inode = 1;
  done.cache_before_bytes = 734003200;
  done.cache_after_bytes = 536870912;
  done.took = 1500ms;
  metrics.record_reclaim(done, std::chrono::system_clock::time_point(1764403200s));
  core::ReclaimOutcome partial;
  partial.name = odd.cgroup;
  partial.inode = 2;
  partial.result = core::ReclaimOutcome::Result::kPartial;
  partial.took = 20ms;
  metrics.record_reclaim(partial, std::chrono::system_clock::time_point(1764403201250ms));
  return metrics.render();
}

TEST(MetricsPromtool, PromtoolAcceptsTheDaemonsExposition) {
  if (!promtool_installed()) {
    if (std::getenv("CI") != nullptr) {
      FAIL() << "promtool is not installed; run scripts/setup.sh prometheus";
    }
    GTEST_SKIP() << "promtool is not installed (scripts/setup.sh prometheus)";
  }
  const auto text = populated_exposition();
  const auto result = run_promtool(text);
  EXPECT_EQ(result.exit_code, 0) << "promtool says:\n" << result.output << "\non:\n" << text;
  EXPECT_EQ(result.output, "") << "on:\n" << text;
}

}  // namespace
}  // namespace cgmm::obs
