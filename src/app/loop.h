#pragma once

#include <poll.h>

#include <chrono>
#include <span>
#include <vector>

#include "core/clock.h"

namespace cgmm::app {

// How the loop sleeps until a descriptor is readable or a timeout passes: ppoll in the daemon,
// a fake that moves a fake clock in tests.
class Waiter {
 public:
  virtual ~Waiter() = default;
  // Sets each entry's revents and returns how many are readable: 0 when the timeout passed or a
  // signal interrupted the wait. A negative fd is ignored; a negative timeout waits for ever.
  virtual int wait(std::span<pollfd> fds, std::chrono::nanoseconds timeout) = 0;
};

class PollWaiter final : public Waiter {
 public:
  // Throws std::runtime_error when ppoll fails other than by a signal.
  int wait(std::span<pollfd> fds, std::chrono::nanoseconds timeout) override;
};

// Something the loop serves: a descriptor to wait for, a moment to wake at, or both.
class Part {
 public:
  virtual ~Part() = default;
  virtual int fd() const { return -1; }
  // TimePoint::max() for never; a moment in the past (TimePoint{}) for at once.
  virtual core::TimePoint due() const { return core::TimePoint::max(); }
  // fd() is readable (`ready`), or due() has come.
  virtual void run(core::TimePoint now, bool ready) = 0;
};

// The main loop: sleeps until the earliest due() of its parts or until one of their descriptors
// is readable, then runs, in the order they were added, each part whose moment came. Single
// threaded: parts run on the loop's thread and may call stop().
class Loop {
 public:
  Loop(const core::Clock& clock, Waiter& waiter) : clock_(clock), waiter_(waiter) {}

  void add(Part& part) { parts_.push_back(&part); }
  // run() returns once the part running now is done.
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  void run();

 private:
  const core::Clock& clock_;
  Waiter& waiter_;
  std::vector<Part*> parts_;
  std::vector<pollfd> fds_;
  bool stopped_ = false;
};

}  // namespace cgmm::app
