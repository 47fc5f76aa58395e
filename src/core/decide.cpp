#include "core/decide.h"

namespace cgmm::core {

Decision decide(const cgroup::MemoryStats& stats, const Policy& policy, const LeafState& state,
                TimePoint now) {
  Decision d;
  d.threshold_bytes = policy.threshold.bytes_for(stats.limit_bytes);
  if (!d.threshold_bytes) {
    d.reason = Reason::kNoLimit;
    return d;
  }
  if (stats.cache_bytes <= *d.threshold_bytes) {
    d.reason = Reason::kBelowThreshold;
    return d;
  }
  if (state.in_flight) {
    d.reason = Reason::kInFlight;
    return d;
  }
  if (state.last_reclaim && now - *state.last_reclaim < policy.cooldown) {
    d.reason = Reason::kCooldown;
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
    case Reason::kOverThreshold:
      return "reclaim";
  }
  return "?";
}

}  // namespace cgmm::core
