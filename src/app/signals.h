#pragma once

#include <initializer_list>
#include <optional>

#include "cgroup/fd.h"

namespace cgmm::app {

// Blocks the given signals in the calling thread (and so in every thread it starts afterwards)
// and delivers them through a file descriptor for the main loop's poll set.
class SignalFd {
 public:
  explicit SignalFd(std::initializer_list<int> signals);
  int fd() const { return fd_.get(); }
  // The next pending signal, if any.
  std::optional<int> take();

 private:
  cgroup::Fd fd_;
};

// The signal sent to a reclaim worker to interrupt a blocking reclaim write (EINTR) at shutdown.
inline constexpr int kInterruptSignal = 10;  // SIGUSR1

// Installs a do-nothing handler for kInterruptSignal without SA_RESTART, so the signal interrupts
// blocking system calls instead of killing the process.
void install_interrupt_handler();

}  // namespace cgmm::app
