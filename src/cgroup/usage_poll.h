#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "cgroup/level_watch.h"

namespace cgmm::cgroup {

// cgroup v2 has no memory threshold notification, so each watched leaf's memory.current (kept
// open, one pread of a counter) is read at a pace set by its distance to its level: next read
// after headroom / kFillRate, between kMinPeriod and kMaxPeriod. A leaf whose usage grows no
// faster than kFillRate cannot pass its level unseen for longer than kMinPeriod; a faster one for
// no longer than kMaxPeriod. A leaf far from its level costs one read a second.
class UsagePoll final : public LevelWatch {
 public:
  // The growth the pace is planned for: page cache filled from a fast disk.
  static constexpr uint64_t kFillRate = uint64_t{256} << 20;  // bytes per second
  static constexpr std::chrono::milliseconds kMinPeriod{50};
  static constexpr std::chrono::milliseconds kMaxPeriod{1000};

  int fd() const override { return -1; }
  TimePoint next_due() const override { return next_due_; }
  IoStatus watch(uint64_t key, uint64_t threshold, uint32_t slot, const OpenDir& open_dir) override;
  bool renew(uint64_t key, uint64_t threshold, uint32_t slot) override;
  IoStatus move_level(uint64_t key, uint64_t level, const OpenDir& open_dir) override;
  void sweep() override;
  void take(std::vector<Fired>& out, TimePoint now) override;
  size_t size() const override { return watches_.size(); }

  // The pause before the next read of a leaf `headroom` bytes under its level.
  static std::chrono::milliseconds period(uint64_t headroom);

 private:
  struct Watch {
    uint64_t key = 0;
    uint64_t threshold = 0;
    uint64_t level = 0;
    TimePoint due;
    Fd current;  // memory.current
    uint32_t slot = 0;
    bool armed = true;  // false from a report until the usage is seen under the level again
    bool renewed = true;
  };
  Watch* find(uint64_t key);

  std::vector<Watch> watches_;  // sorted by key
  TimePoint next_due_ = TimePoint::max();
};

}  // namespace cgmm::cgroup
