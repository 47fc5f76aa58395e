#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "cgroup/fd.h"
#include "cgroup/memory_stat.h"
#include "cgroup/result.h"

namespace cgmm::cgroup {

// Tells the daemon between scans that a leaf's memory usage went over a level. Usage above a
// cache threshold is necessary for cache above it, so a leaf's level starts at its threshold.
// Leaves are named by inode: one table of watches for both cgroup versions, which differ only in
// how a watch is armed and how crossings are collected.
//
// cgroup v1 has kernel memory thresholds: an eventfd registered through cgroup.event_control on
// memory.usage_in_bytes at the level. The kernel signals it when the usage crosses the level
// (either way) and when the cgroup is removed; the registration lasts until the eventfd is
// closed. All eventfds sit in one epoll set, so the main loop polls one fd.
//
// cgroup v2 has no usage notification: each watched leaf's memory.current stays open (one pread
// of a counter) and is read at a pace set by its distance to its level, the next read after
// headroom / kFillRate, between kMinPeriod and kMaxPeriod. A leaf whose usage grows no faster
// than kFillRate cannot pass its level unseen for longer than kMinPeriod; a faster one for no
// longer than kMaxPeriod. A leaf far from its level costs one read a second.
class UsageWatch {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using OpenDir = std::function<IoResult<Fd>()>;

  // v2: the growth the pace is planned for, page cache filled from a fast disk.
  static constexpr uint64_t kFillRate = uint64_t{256} << 20;  // bytes per second
  static constexpr std::chrono::milliseconds kMinPeriod{50};
  static constexpr std::chrono::milliseconds kMaxPeriod{1000};

  explicit UsageWatch(Version version);
  UsageWatch(const UsageWatch&) = delete;
  UsageWatch& operator=(const UsageWatch&) = delete;

  // False when v1's epoll set could not be created.
  bool valid() const;
  // v1: the epoll fd, readable when take() has news; v2: -1.
  int fd() const { return epoll_.get(); }
  // v2: when take() must run; v1: TimePoint::max().
  TimePoint next_due() const { return next_due_; }

  // Keeps `inode` watched for cache threshold `threshold` until the next sweep(); false when it
  // is not watched for that threshold and needs watch(). No system call.
  bool renew(uint64_t inode, uint64_t threshold);
  // Registers (or registers anew when the threshold changed), opening the leaf's directory
  // through `open_dir` only then; the level starts at the threshold. v1: blocks ~10 ms, the RCU
  // grace period the kernel waits for on every registration.
  IoStatus watch(uint64_t inode, uint64_t threshold, const OpenDir& open_dir);
  // Moves a watched leaf's level to `level` (the threshold plus what the leaf uses besides the
  // cache counted against it), so the next report comes when the cache, not the rest of the
  // usage, reaches the threshold. No-op for an unwatched leaf or an unchanged level. v1 registers
  // anew through `open_dir`; v2 reads at the next take().
  IoStatus move_level(uint64_t inode, uint64_t level, const OpenDir& open_dir);
  // Ends the watches not renewed or watched since the last sweep.
  void sweep();
  // Appends the inodes whose usage went over their level since the last call. v1 also reports a
  // usage that went back under (the kernel signals both ways); v2 reports a leaf once until it is
  // seen under its level again.
  void take(std::vector<uint64_t>& inodes, TimePoint now);

  size_t size() const { return watches_.size(); }

  // v2: the pause before the next read of a leaf `headroom` bytes under its level.
  static std::chrono::milliseconds period(uint64_t headroom);

 private:
  struct Watch {
    uint64_t threshold = 0;
    uint64_t level = 0;
    Fd fd;              // v1: the registered eventfd; v2: memory.current
    TimePoint due{};    // v2: the next read
    bool armed = true;  // v2: false from a report until the usage is seen under the level again
    bool renewed = true;
  };

  // Arms a watch of `inode` at `level`, replacing any earlier one: v1 ends the old registration
  // first, v2 keeps the old watch when the leaf cannot be opened.
  IoStatus arm(uint64_t inode, uint64_t threshold, uint64_t level, const OpenDir& open_dir);
  // v1: an eventfd registered at `level` on memory.usage_in_bytes of the leaf `dir_fd`, in the
  // epoll set under `inode`, and already signalled when the usage is over the level.
  IoResult<Fd> register_threshold(uint64_t inode, uint64_t level, int dir_fd);
  // v2: reads the watches due by `now` and sets their next reads.
  void read_due(std::vector<uint64_t>& inodes, TimePoint now);
  // v2: has `w` read at the next take().
  void read_soon(Watch& w);

  Version version_;
  Fd epoll_;                                     // v1
  std::unordered_map<uint64_t, Watch> watches_;  // by inode
  TimePoint next_due_ = TimePoint::max();
};

}  // namespace cgmm::cgroup
