#pragma once

#include <cstdint>
#include <vector>

#include "cgroup/level_watch.h"

namespace cgmm::cgroup {

// cgroup v1 memory thresholds: for each watched leaf an eventfd registered through
// cgroup.event_control on memory.usage_in_bytes at a level. The kernel signals it when the usage
// crosses the level (either way) and when the cgroup is removed; the registration lasts until
// the eventfd is closed. All eventfds sit in one epoll set, so the main loop polls one fd.
class UsageEvents final : public LevelWatch {
 public:
  UsageEvents();
  UsageEvents(const UsageEvents&) = delete;
  UsageEvents& operator=(const UsageEvents&) = delete;

  bool valid() const { return epoll_.valid(); }

  // Readable when some watched leaf's usage crossed its level.
  int fd() const override { return epoll_.get(); }
  TimePoint next_due() const override { return TimePoint::max(); }
  // Registering blocks: the kernel waits for an RCU grace period on every registration (about
  // 10 ms here). A steady scan only renews, at no system call.
  IoStatus watch(uint64_t key, uint64_t threshold, uint32_t slot, const OpenDir& open_dir) override;
  bool renew(uint64_t key, uint64_t threshold, uint32_t slot) override;
  IoStatus move_level(uint64_t key, uint64_t level, const OpenDir& open_dir) override;
  void sweep() override;
  // Reports every signalled leaf (the kernel also signals crossings downward) and re-arms it.
  void take(std::vector<Fired>& out, TimePoint now) override;
  size_t size() const override { return watches_.size(); }

 private:
  // Registers a new eventfd for `key` at `level`, replacing any earlier one.
  IoStatus arm(uint64_t key, uint64_t threshold, uint64_t level, uint32_t slot,
               const OpenDir& open_dir);

  // 32 bytes a watched leaf, in a vector sorted by key (a hash node and its bucket took about
  // 72). Registrations come one at a time, ~10 ms apart, so an insert's shift costs nothing
  // that matters; lookups are a binary search.
  struct Watch {
    uint64_t key = 0;
    uint64_t threshold = 0;
    uint64_t level = 0;
    Fd event;
    // The slot is a leaf's index in the scan, far below 2^31; the top bit is the renewed mark.
    uint32_t slot_renewed = 0;

    uint32_t slot() const { return slot_renewed & ~kRenewed; }
    bool renewed() const { return (slot_renewed & kRenewed) != 0; }
    void set(uint32_t slot, bool renewed) {
      slot_renewed = (slot & ~kRenewed) | (renewed ? kRenewed : 0);
    }
    static constexpr uint32_t kRenewed = 1U << 31;
  };

  std::vector<Watch>::iterator find(uint64_t key);

  Fd epoll_;
  std::vector<Watch> watches_;
};

}  // namespace cgmm::cgroup
