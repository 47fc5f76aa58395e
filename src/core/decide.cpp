#include "core/decide.h"

#include <algorithm>

namespace cgmm::core {

uint64_t counted_cache_bytes(const MemoryStats& stats, const Policy& policy) {
  if (!policy.exclude_shmem) {
    return stats.cache_bytes;
  }
  return stats.cache_bytes > stats.shmem_bytes ? stats.cache_bytes - stats.shmem_bytes : 0;
}

bool futile_reclaim(uint64_t freed_bytes, uint64_t target_bytes) {
  return target_bytes > 0 && freed_bytes < target_bytes / kFutileFreedDivisor;
}

bool harmful_reclaim(uint64_t refaulted_bytes, uint64_t freed_bytes) {
  return freed_bytes > 0 && refaulted_bytes >= freed_bytes / kHarmfulRefaultDivisor;
}

uint32_t backoff_factor(uint32_t backoff_streak) {
  uint32_t factor = 1;
  for (uint32_t i = 0; i < backoff_streak && factor < kMaxBackoffFactor; ++i) {
    factor *= 2;
  }
  return std::min(factor, kMaxBackoffFactor);
}

Duration reclaim_wait(const Policy& policy, const LeafState& state) {
  return policy.cooldown * backoff_factor(state.backoff_streak);
}

Decision decide(const MemoryStats& stats, const Policy& policy, const LeafState& state,
                TimePoint now) {
  Decision d;
  if (!policy.reclaim) {
    d.reason = Reason::kExcluded;  // no threshold either: nothing to watch for
    return d;
  }
  d.threshold_bytes = policy.threshold.bytes_for(stats.limit_bytes);
  if (!d.threshold_bytes) {
    d.reason = Reason::kNoLimit;
    return d;
  }
  if (counted_cache_bytes(stats, policy) <= *d.threshold_bytes) {
    d.reason = Reason::kBelowThreshold;
    return d;
  }
  if (state.in_flight) {
    d.reason = Reason::kInFlight;
    return d;
  }
  if (state.last_reclaim && now - *state.last_reclaim < reclaim_wait(policy, state)) {
    if (state.backoff_streak == 0) {
      d.reason = Reason::kCooldown;
    } else {
      d.reason = state.hot_cache ? Reason::kHotCache : Reason::kBackoff;
    }
    d.retry_at = *state.last_reclaim + reclaim_wait(policy, state);
    return d;
  }
  d.action = Action::kReclaim;
  d.reason = Reason::kOverThreshold;
  return d;
}

const char* to_string(Reason reason) {
  switch (reason) {
    case Reason::kBelowThreshold:
      return "below threshold";
    case Reason::kNoLimit:
      return "no limit";
    case Reason::kInFlight:
      return "reclaim running";
    case Reason::kCooldown:
      return "cooldown";
    case Reason::kBackoff:
      return "backoff";
    case Reason::kHotCache:
      return "hot cache";
    case Reason::kOverThreshold:
      return "reclaim";
    case Reason::kExcluded:
      return "excluded";
    case Reason::kRuntime:
      return "runtime";
  }
  return "?";
}

}  // namespace cgmm::core
