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

  uint64_t freed_bytes() const {
    if (!cache_after_bytes || *cache_after_bytes >= cache_before_bytes) {
      return 0;
    }
    return cache_before_bytes - *cache_after_bytes;
  }
};

const char* to_string(ReclaimResult result);

}  // namespace cgmm::core
