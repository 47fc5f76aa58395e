#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cgmm::testing {

// The built daemon binary, run as a child process with its stdout and stderr captured to files.
// Killed on destruction if still running.
class DaemonProcess {
 public:
  // `in_child` runs in the forked child just before it executes the daemon (e.g. to install a
  // seccomp filter); it must not return on failure but _exit.
  explicit DaemonProcess(const std::vector<std::string>& args,
                         const std::vector<std::string>& env = {},
                         const std::function<void()>& in_child = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Waits for the process to exit; its exit code, or empty after `timeout` (still running) or
  // when it died of a signal.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void signal(int sig);
  bool running();
  pid_t pid() const { return pid_; }

  std::string out() const;
  std::string err() const;
  // Waits until stderr contains `text`; false after `timeout`.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_;
  std::string err_path_;
};

// Runs the daemon to completion (e.g. --once); the exit code, stdout and stderr.
struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};
RunResult run_daemon(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Polls `condition` every 50 ms until it holds or `timeout` passes.
template <typename F>
bool eventually(F condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    ::usleep(50'000);
  }
}

}  // namespace cgmm::testing
