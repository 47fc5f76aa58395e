#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "cgroup/fd.h"
#include "cgroup/result.h"

namespace cgmm::cgroup {

// Tells the daemon between scans that a leaf's memory usage went over a level. Usage above a
// cache threshold is necessary for cache above it, so a leaf's first level is its threshold.
// cgroup v1 has kernel memory thresholds (UsageEvents); cgroup v2 has no usage notification, so
// memory.current is read at a pace set by the distance to the level (UsagePoll).
class LevelWatch {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using OpenDir = std::function<IoResult<Fd>()>;

  struct Fired {
    uint64_t key;
    uint32_t slot;
  };

  virtual ~LevelWatch() = default;

  // Readable when take() has something to report; -1 when only next_due() says so.
  virtual int fd() const = 0;
  // When take() is next needed whatever fd() says; TimePoint::max() for never.
  virtual TimePoint next_due() const = 0;

  // Keeps leaf `key` (its inode) watched, renewed for the next sweep(), for a cache threshold of
  // `threshold` bytes, and sets the `slot` take() reports for it. Registers, or registers anew
  // when the threshold changed, opening the leaf's directory through `open_dir` only then.
  virtual IoStatus watch(uint64_t key, uint64_t threshold, uint32_t slot,
                         const OpenDir& open_dir) = 0;
  // Keeps an existing watch of leaf `key` for `threshold` until the next sweep() and updates its
  // slot. False when the leaf is not watched for that threshold and needs watch().
  virtual bool renew(uint64_t key, uint64_t threshold, uint32_t slot) = 0;
  // Moves a watched leaf's level to `level` (the threshold plus what the leaf uses besides the
  // cache counted against it), so the next report comes when the cache, not the rest of the
  // usage, reaches the threshold. No-op for an unwatched leaf or an unchanged level.
  virtual IoStatus move_level(uint64_t key, uint64_t level, const OpenDir& open_dir) = 0;
  // Ends the watches that were not renewed since the last sweep.
  virtual void sweep() = 0;
  // Appends the leaves whose usage went over their level since the last call (v1 also reports a
  // usage that went back under). A leaf that stays over its level is not reported again until its
  // usage has been under it.
  virtual void take(std::vector<Fired>& out, TimePoint now) = 0;

  virtual size_t size() const = 0;
};

}  // namespace cgmm::cgroup
