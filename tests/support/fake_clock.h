#pragma once

#include "core/clock.h"

namespace cgmm::testing {

// A clock that moves only when told to.
class FakeClock final : public core::Clock {
 public:
  core::TimePoint now() const override { return now_; }
  void advance(core::Duration d) { now_ += d; }

 private:
  core::TimePoint now_{std::chrono::hours(1000)};
};

}  // namespace cgmm::testing
