#pragma once

#include <chrono>

namespace cgmm::core {

using TimePoint = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// Time is injected wherever a decision depends on it, so tests run on a fake clock, and wherever
// a timestamp is shown, so a test can know what the page will say.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // The wall clock, for timestamps shown to people and to Prometheus only: it can jump, so
  // nothing is ever decided or measured by it.
  virtual WallTime wall_now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace cgmm::core
