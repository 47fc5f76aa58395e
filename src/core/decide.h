#pragma once

#include <cstdint>
#include <optional>

#include "core/clock.h"
#include "core/leaf_sample.h"
#include "core/units.h"

namespace cgmm::core {

// What the daemon remembers about one cgroup between scans.
struct LeafState {
  std::optional<TimePoint> last_reclaim;  // when the last reclaim was started
  bool in_flight = false;                 // a reclaim is running now
  // Reclaims in a row that were futile (freed under a tenth of their target) or harmful (their
  // leaf read half of what they freed back within a cooldown). While it is above 0 the wait
  // after a reclaim is the cooldown times backoff_factor(backoff_streak).
  uint32_t backoff_streak = 0;
  // The last reclaim that lengthened the streak was harmful, not futile: the cache is hot.
  bool hot_cache = false;
};

enum class Action { kNone, kReclaim };

enum class Reason {
  kBelowThreshold,  // cache at or under the threshold
  kNoLimit,         // percentage threshold, and the cgroup has no effective limit
  kInFlight,        // over threshold, but the previous reclaim has not finished
  kCooldown,        // over threshold, but reclaimed less than a cooldown ago
  kBackoff,         // over threshold, but the last reclaims freed almost nothing: waiting longer
  kHotCache,        // over threshold, but the leaf read back what the last reclaims freed
  kOverThreshold,   // reclaim
  kExcluded,        // a rule says never to reclaim it (`reclaim: false`)
  kRuntime,         // a container runtime's own cgroup (conmon's): never reclaimed
};

struct Decision {
  Action action = Action::kNone;
  Reason reason = Reason::kBelowThreshold;
  std::optional<uint64_t> threshold_bytes;  // the level the cache was compared with
  // kCooldown and kBackoff: when the leaf may be reclaimed again.
  std::optional<TimePoint> retry_at;
};

struct Policy {
  Threshold threshold = Threshold::percent(25);
  Duration cooldown = std::chrono::seconds(30);
  // Compare only the reclaimable cache (cache minus shmem/tmpfs) with the threshold.
  bool exclude_shmem = false;
  // cgroup v2: reclaim only down to this level instead of the whole page cache.
  std::optional<Threshold> reclaim_target;
  // False: the leaf is watched and reported but never reclaimed (a rule's `reclaim: false`).
  bool reclaim = true;
  // Back off from a leaf that reads back what its reclaims free (harmful_reclaim). False keeps
  // the cache of such a leaf bounded by the threshold at the price of its disk reads.
  bool refault_backoff = true;
};

// The cache compared with the threshold: all of it, or without shmem with exclude_shmem.
uint64_t counted_cache_bytes(const MemoryStats& stats, const Policy& policy);

// A reclaim is futile when it freed under a tenth of what it targeted: the cache is then most
// likely shmem/tmpfs, which reclaim cannot free without swap.
inline constexpr uint64_t kFutileFreedDivisor = 10;
bool futile_reclaim(uint64_t freed_bytes, uint64_t target_bytes);

// A reclaim is harmful when its leaf refaulted at least half of what it freed within one
// cooldown: the cache was in use, and freeing it only cost the container disk reads.
inline constexpr uint64_t kHarmfulRefaultDivisor = 2;
bool harmful_reclaim(uint64_t refaulted_bytes, uint64_t freed_bytes);

// After `backoff_streak` futile or harmful reclaims in a row a leaf waits this many cooldowns:
// 2, 4, 8, then 16 at most, so a tmpfs-heavy or hot leaf is reclaimed about once per 8 minutes
// with the default 30 s cooldown instead of twice a minute, and still recovers within one such
// wait once reclaim helps again. 1 without a streak.
inline constexpr uint32_t kMaxBackoffFactor = 16;
uint32_t backoff_factor(uint32_t backoff_streak);

// The least time from one reclaim of a leaf to its next.
Duration reclaim_wait(const Policy& policy, const LeafState& state);

// The whole rule: never for a policy that does not reclaim; else reclaim when the counted cache is
// strictly above the threshold, no reclaim of this cgroup is running, and none started less than
// reclaim_wait ago (the cooldown, longer in backoff). Pure.
Decision decide(const MemoryStats& stats, const Policy& policy, const LeafState& state,
                TimePoint now);

// "reclaim", "below threshold", ...
const char* to_string(Reason reason);

}  // namespace cgmm::core
