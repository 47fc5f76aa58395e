#pragma once

#include <cstdint>
#include <optional>

#include "cgroup/memory_stat.h"
#include "core/clock.h"
#include "core/units.h"

namespace cgmm::core {

// What the daemon remembers about one cgroup between scans.
struct LeafState {
  std::optional<TimePoint> last_reclaim;  // when the last reclaim was started
  bool in_flight = false;                 // a reclaim is running now
};

enum class Action { kNone, kReclaim };

enum class Reason {
  kBelowThreshold,  // cache at or under the threshold
  kNoLimit,         // percentage threshold, and the cgroup has no effective limit
  kInFlight,        // over threshold, but the previous reclaim has not finished
  kCooldown,        // over threshold, but reclaimed less than a cooldown ago
  kOverThreshold,   // reclaim
};

struct Decision {
  Action action = Action::kNone;
  Reason reason = Reason::kBelowThreshold;
  std::optional<uint64_t> threshold_bytes;  // the level the cache was compared with
};

struct Policy {
  Threshold threshold = Threshold::percent(25);
  Duration cooldown = std::chrono::seconds(30);
};

// The whole rule: reclaim when the cache is strictly above the threshold, no reclaim of this
// cgroup is running, and none started less than a cooldown ago. Pure.
Decision decide(const cgroup::MemoryStats& stats, const Policy& policy, const LeafState& state,
                TimePoint now);

// "reclaim", "below threshold", ...
const char* to_string(Reason reason);

}  // namespace cgmm::core
