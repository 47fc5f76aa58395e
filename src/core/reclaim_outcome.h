#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/leaf_sample.h"
#include "core/units.h"

namespace cgmm::core {

// How one reclaim of one cgroup ended.
enum class ReclaimResult {
  kDone,         // the kernel reclaimed what was asked (v1: all it could)
  kPartial,      // v2: the kernel reclaimed less than asked (EAGAIN); not an error
  kFailed,       // the write failed; `error` says why
  kVanished,     // the cgroup was removed meanwhile
  kInterrupted,  // shutdown interrupted it
};

struct ReclaimOutcome {
  using Result = ReclaimResult;

  std::string name;
  uint64_t inode = 0;
  LeafContext context;  // as the decision saw it, to name the workload and its rule
  Result result = Result::kDone;
  uint64_t cache_before_bytes = 0;
  std::optional<uint64_t> cache_after_bytes;  // read from memory.stat after the write
  std::optional<uint64_t> shmem_after_bytes;  // the shmem/tmpfs part of it, read with it
  // What the reclaim aimed to free: on v2 the amount asked of memory.reclaim; on v1 (force_empty
  // takes no amount) the cache before, without shmem when shmem is excluded from the threshold.
  uint64_t target_bytes = 0;
  Duration took{};
  std::string error;

  // v2: what memory.current, which is exact, fell by over the whole reclaim; memory.stat is
  // flushed lazily and can lag behind a reclaim. Empty on v1, whose memory.stat is exact.
  std::optional<uint64_t> usage_freed_bytes;
  // v2: the memory.reclaim writes the reclaim took (asked in steps, read between them).
  uint32_t steps = 0;
  // v2 without swappiness= (before Linux 6.11): the steps stopped because anonymous memory shrank
  // or swap grew.
  bool swap_guard = false;

  // What the reclaim freed, by the exact counter of its version.
  uint64_t freed_bytes() const {
    if (usage_freed_bytes) {
      return *usage_freed_bytes;
    }
    if (!cache_after_bytes || *cache_after_bytes >= cache_before_bytes) {
      return 0;
    }
    return cache_before_bytes - *cache_after_bytes;
  }
};

const char* to_string(ReclaimResult result);

// cgroup v2 reclaims in steps: each asks for part of what remains to the goal and reads
// memory.current before the next. One large memory.reclaim request is not honoured on Linux 6.1
// (asked for 150 MiB of 190 MiB of clean cache, it took all 190); a step of half of what remains
// overshoots by at most about that half of a half, and the steps shrink as the goal nears.
// Below kWholeStepBytes the rest is asked at once.
inline constexpr uint64_t kWholeStepBytes = uint64_t{2} << 20;
inline constexpr uint32_t kMaxReclaimSteps = 24;
uint64_t reclaim_step_bytes(uint64_t remaining_bytes);

}  // namespace cgmm::core
