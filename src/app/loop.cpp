#include "app/loop.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace cgmm::app {

int PollWaiter::wait(std::span<pollfd> fds, std::chrono::nanoseconds timeout) {
  timespec ts{static_cast<time_t>(timeout.count() / 1'000'000'000),
              static_cast<long>(timeout.count() % 1'000'000'000)};
  const int n = ::ppoll(fds.data(), fds.size(), timeout.count() < 0 ? nullptr : &ts, nullptr);
  if (n < 0 && errno != EINTR) {
    throw std::runtime_error(std::string("poll failed: ") + std::strerror(errno));
  }
  return n < 0 ? 0 : n;
}

void Loop::run() {
  while (!stopped_) {
    core::TimePoint wake = core::TimePoint::max();
    fds_.clear();
    for (const Part* p : parts_) {
      wake = std::min(wake, p->due());
      fds_.push_back({p->fd(), POLLIN, 0});
    }
    const core::TimePoint now = clock_.now();
    // Compared before subtracting: a due time long past must not overflow the difference.
    std::chrono::nanoseconds timeout{-1};
    if (wake <= now) {
      timeout = std::chrono::nanoseconds(0);
    } else if (wake != core::TimePoint::max()) {
      timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now);
    }
    const int ready = waiter_.wait(fds_, timeout);
    for (size_t i = 0; i < parts_.size() && !stopped_; ++i) {
      const bool readable = ready > 0 && (fds_[i].revents & POLLIN) != 0;
      // Read again for each part: the one before may have taken long (a scan).
      const core::TimePoint at = clock_.now();
      if (readable || parts_[i]->due() <= at) {
        parts_[i]->run(at, readable);
      }
    }
  }
}

}  // namespace cgmm::app
