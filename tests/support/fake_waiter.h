#pragma once

#include <gtest/gtest.h>
#include <poll.h>

#include <csignal>
#include <functional>
#include <map>
#include <span>

#include "app/loop.h"
#include "support/fake_clock.h"

namespace cgmm::testing {

// The daemon loop's wait on a fake clock: sleeps by moving the clock to the wake time, or to the
// next scripted event before it, which it then runs (the workload and the operator of the test).
// Descriptors that are readable already (a finished reclaim, the stop signal) end the wait at
// once, as ppoll would. With nothing left to happen it raises `stop_signal` rather than hang.
class FakeWaiter final : public app::Waiter {
 public:
  FakeWaiter(FakeClock& clock, int stop_signal) : clock_(clock), stop_signal_(stop_signal) {}

  void at(core::Duration since_start, std::function<void()> event) {
    script_.emplace(start_ + since_start, std::move(event));
  }

  int wait(std::span<pollfd> fds, std::chrono::nanoseconds timeout) override {
    if (const int n = ::poll(fds.data(), fds.size(), 0); n > 0) {
      return n;
    }
    EXPECT_GE(timeout.count(), 0) << "the loop would sleep for ever";
    const core::TimePoint wake =
        timeout.count() < 0 ? core::TimePoint::max() : clock_.now() + timeout;
    if (!script_.empty() && script_.begin()->first <= wake) {
      auto next = script_.extract(script_.begin());
      clock_.advance(std::chrono::duration_cast<core::Duration>(next.key() - clock_.now()));
      next.mapped()();
      return 0;
    }
    if (timeout.count() < 0) {
      ::raise(stop_signal_);
      return 0;
    }
    clock_.advance(std::chrono::ceil<core::Duration>(timeout));
    return 0;
  }

 private:
  FakeClock& clock_;
  const int stop_signal_;
  const core::TimePoint start_ = clock_.now();
  std::multimap<core::TimePoint, std::function<void()>> script_;
};

}  // namespace cgmm::testing
