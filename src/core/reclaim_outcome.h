#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/units.h"

namespace cgmm::core {

// How one reclaim of one cgroup ended.
struct ReclaimOutcome {
  enum class Result {
    kDone,         // the kernel reclaimed what was asked
    kPartial,      // v2: the kernel reclaimed less than asked (EAGAIN)
    kFailed,       // the write failed; `error` says why
    kVanished,     // the cgroup was removed meanwhile
    kInterrupted,  // shutdown interrupted it
  };

  std::string name;
  uint64_t inode = 0;
  Result result = Result::kDone;
  uint64_t cache_before_bytes = 0;
  std::optional<uint64_t> cache_after_bytes;  // read from memory.stat after the write
  uint64_t target_bytes = 0;                  // what was asked for (v2); all cache on v1
  Duration took{};
  std::string error;

  uint64_t freed_bytes() const {
    if (!cache_after_bytes || *cache_after_bytes >= cache_before_bytes) {
      return 0;
    }
    return cache_before_bytes - *cache_after_bytes;
  }
};

const char* to_string(ReclaimOutcome::Result result);

}  // namespace cgmm::core
