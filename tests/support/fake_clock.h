#pragma once

#include "core/clock.h"
#include "core/units.h"

namespace cgmm::testing {

// A clock that moves only when told to. Its wall clock starts at a fixed moment and moves with
// it, so timestamps derived from it are known in advance.
class FakeClock final : public core::Clock {
 public:
  // 2023-11-14T22:13:20Z.
  static constexpr core::WallTime kWallStart{std::chrono::seconds(1'700'000'000)};

  core::TimePoint now() const override { return now_; }
  core::WallTime wall_now() const override {
    return kWallStart +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(now_ - kStart);
  }
  void advance(core::Duration d) { now_ += d; }

 private:
  static constexpr core::TimePoint kStart{std::chrono::hours(1000)};
  core::TimePoint now_{kStart};
};

}  // namespace cgmm::testing
