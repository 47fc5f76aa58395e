#pragma once

#include <chrono>

namespace cgmm::core {

using TimePoint = std::chrono::steady_clock::time_point;

// Time is injected wherever a decision depends on it, so tests run on a fake clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace cgmm::core
