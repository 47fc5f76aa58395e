#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cgroup/fd.h"
#include "cgroup/result.h"

namespace cgmm::cgroup {

// cgroup v1 memory thresholds: for each watched leaf an eventfd registered through
// cgroup.event_control on memory.usage_in_bytes at a level. The kernel signals it when the usage
// crosses the level (either way) and when the cgroup is removed; the registration lasts until
// the eventfd is closed. All eventfds sit in one epoll set, so the main loop polls one fd.
class UsageEvents {
 public:
  UsageEvents();
  UsageEvents(const UsageEvents&) = delete;
  UsageEvents& operator=(const UsageEvents&) = delete;

  // Readable when some watched leaf's usage crossed its level.
  int fd() const { return epoll_.get(); }
  bool valid() const { return epoll_.valid(); }

  // Keeps leaf `key` (its inode) watched until the next sweep(), for a cache threshold of
  // `threshold` bytes, and sets the `slot` take() reports for it. Usage above the threshold is
  // necessary for cache above it, so the first level is the threshold itself. Registers, or
  // registers anew when the threshold changed, opening the leaf's directory through `open_dir`
  // only then, so a steady scan costs no system call.
  IoStatus watch(uint64_t key, uint64_t threshold, uint32_t slot,
                 const std::function<IoResult<Fd>()>& open_dir);

  // Keeps an existing watch of leaf `key` for `threshold` until the next sweep() and updates its
  // slot. False when the leaf is not watched for that threshold and needs watch(), which blocks
  // (the kernel waits for an RCU grace period on every registration, about 10 ms here).
  bool renew(uint64_t key, uint64_t threshold, uint32_t slot);

  // Moves a watched leaf's level to `level` (the threshold plus what the leaf uses besides the
  // cache counted against it), so the next event comes when the cache, not the rest of the usage,
  // reaches the threshold. No-op for an unwatched leaf or an unchanged level.
  IoStatus move_level(uint64_t key, uint64_t level, const std::function<IoResult<Fd>()>& open_dir);

  // Ends the watches that were not renewed by watch() since the last sweep.
  void sweep();

  struct Fired {
    uint64_t key;
    uint32_t slot;
  };
  // Appends the leaves whose events fired since the last call, and re-arms them.
  void take(std::vector<Fired>& out);

  size_t size() const { return watches_.size(); }

 private:
  // Registers a new eventfd for `key` at `level`, replacing any earlier one.
  IoStatus arm(uint64_t key, uint64_t threshold, uint64_t level, uint32_t slot,
               const std::function<IoResult<Fd>()>& open_dir);

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
  static_assert(sizeof(Watch) == 32);

  std::vector<Watch>::iterator find(uint64_t key);

  Fd epoll_;
  std::vector<Watch> watches_;
};

// memory.usage_in_bytes of the cgroup at `dir_fd` (v1).
IoResult<uint64_t> read_usage(int dir_fd, std::string& buf);

}  // namespace cgmm::cgroup
