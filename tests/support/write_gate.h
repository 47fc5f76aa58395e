#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cgroup/fd.h"
#include "support/fd_passing.h"

namespace cgmm::testing {

// Stands between a child process and the kernel for its control writes: every write(2) of
// exactly one byte to a file descriptor above 2 (the daemon's "0" to memory.force_empty; its logs
// go to fd 2 and its eventfd takes 8 bytes) stops in a seccomp user notification and waits for
// this gate. By default the gate lets the write through to the real kernel at once; for a file
// whose path contains a chosen text it can instead hold the write (the writer sleeps
// interruptibly, as in a slow force_empty: a signal ends the wait with EINTR) or fail it with an
// errno.
//
// Usage: DaemonProcess d(args, env, WriteGate::installer(channel)); WriteGate gate(channel);
class WriteGate {
 public:
  // A function for DaemonProcess's `in_child`: installs the filter and sends the notification fd
  // over `channel` to the parent.
  static std::function<void()> installer(FdChannel& channel);

  // Receives the notification fd from the child and starts answering, holding writes to paths
  // containing `hold_text` from the very first one.
  explicit WriteGate(FdChannel& channel, std::string hold_text = "");
  ~WriteGate();  // lets every held write through, then stops
  WriteGate(const WriteGate&) = delete;
  WriteGate& operator=(const WriteGate&) = delete;

  // Writes to paths containing `text` are held until release().
  void hold(const std::string& text);
  // Writes to paths containing `text` fail with `err` (no write reaches the kernel).
  void fail(const std::string& text, int err);
  // Lets held writes through to the kernel and stops holding or failing anything.
  void release();

  // Writes seen so far to paths containing `text`, and how many of them are being held now.
  size_t seen(const std::string& text) const;
  size_t held(const std::string& text) const;
  // The threads whose writes to paths containing `text` are being held now.
  std::vector<pid_t> holders(const std::string& text) const;

 private:
  struct Pending {
    uint64_t id;
    std::string path;
    pid_t tid;
  };
  void run();
  void answer(uint64_t id, int err);

  cgroup::Fd fd_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string hold_text_;
  std::string fail_text_;
  int fail_err_ = 0;
  std::vector<std::string> seen_;
  std::vector<Pending> held_;
  std::thread thread_;
};

// Runs `body` in a forked child in which every write(2) to a file descriptor above 2 fails with
// `err` before reaching any file (seccomp). Returns the child's exit code: `body`'s result.
int with_write_errno(int err, const std::function<int()>& body);

}  // namespace cgmm::testing
