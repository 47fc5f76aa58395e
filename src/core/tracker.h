#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/decide.h"
#include "core/leaf_sample.h"
#include "core/reclaim_outcome.h"

namespace cgmm::core {

// What changed in one scan, for logging and acting. Indexes refer to the scan's samples.
struct TickResult {
  std::vector<size_t> appeared;
  std::vector<std::string> vanished;
  std::vector<size_t> error_started;  // first failure of a streak: log it once
  std::vector<size_t> error_cleared;  // read fine again after a streak
  std::vector<Decision> decisions;    // one per sample; kNone where stats could not be read
};

// How a reclaim, once it ended (futile) or once its refaults were judged (harmful or not),
// changed its leaf's backoff, for logging.
struct BackoffChange {
  enum class Kind {
    kNone,     // no change: the reclaim helped and there was no backoff, or it says nothing
    kStarted,  // the first futile (or harmful) reclaim of a streak or of its part: log it once
    kLonger,   // another one of the same kind: the wait grew (up to kMaxBackoffFactor cooldowns)
    kEnded,    // a reclaim helped again after a streak: back to the plain cooldown
  };
  Kind kind = Kind::kNone;
  uint32_t streak = 0;
  bool hot_cache = false;  // the streak's last reclaim was harmful, not futile
  Duration wait{};         // from the start of this reclaim to the next possible one
};

// What came back of one reclaim that freed something: its leaf's refaults since the reclaim was
// decided, up to what it freed, counted at each look at the leaf until its next reclaim decision.
struct RefaultNews {
  std::string name;
  uint64_t inode = 0;
  LeafContext context;
  uint64_t added_bytes = 0;  // refaulted since the last news of this reclaim
  // Once per reclaim: at the first look where the leaf has read back half of what was freed, or
  // at the first one a cooldown after the reclaim started.
  struct Judgment {
    bool harmful = false;
    uint64_t freed_bytes = 0;
    uint64_t refaulted_bytes = 0;
    Duration within{};   // from the end of the reclaim to this look
    Duration next_in{};  // from this look to the next possible reclaim of the leaf
    BackoffChange change;
  };
  std::optional<Judgment> judged;
};

// Remembers every leaf across scans and decides what to do with each, by the settings of its
// rule (LeafContext) or else the command line's. No I/O. A leaf is one
// incarnation of a cgroup, its name and inode: a cgroup removed and created again under the same
// name is a new one, and so is one renamed. Entries are found by inode (unique among live
// cgroups of one mount) and hold a copy of the name.
class Tracker {
 public:
  // In a dry run, a reclaim decision starts the cooldown as a real reclaim would, but no reclaim
  // is ever in flight.
  Tracker(Policy policy, bool dry_run) : policy_(policy), dry_run_(dry_run) {}

  TickResult observe(std::span<const LeafSample> samples, TimePoint now);

  // Decides one leaf between scans on fresh stats (kept as its last ones) (a kernel notification
  // said its usage crossed its level, or its cooldown ended). A leaf no scan has seen, or another
  // incarnation of it, is left to the next scan: empty.
  std::optional<Decision> check(const LeafSample& sample, TimePoint now);

  // A reclaim decided for this leaf will not run (dry run, no memory.reclaim): nothing is in
  // flight, and the backoff is unchanged.
  void reclaim_finished(std::string_view name, uint64_t inode);

  // A reclaim dispatched for this leaf has ended. A done or partial one whose cache after is
  // known feeds the backoff: futile (freed under a tenth of its target) lengthens it at once; one
  // that freed more has its refaults followed from here, and their judgment lengthens (harmful)
  // or ends the backoff (RefaultNews). Failed, vanished and interrupted reclaims leave it.
  BackoffChange reclaim_finished(const ReclaimOutcome& outcome);

  // The refaults counted and judged since the last call, by observe and check.
  std::vector<RefaultNews> take_refaults() { return std::exchange(refaults_news_, {}); }

  // What is known of one leaf: the last scan's name, context and stats, and its reclaim state.
  struct Leaf {
    std::string name;
    LeafContext context;
    std::optional<MemoryStats> stats;  // as last read; empty while it fails to read
    uint64_t seen = 0;                 // the scan that last saw it
    bool failing = false;
    LeafState state;
  };
  // The leaf with this inode, or null when no scan has seen it (or it vanished since).
  const Leaf* find(uint64_t inode) const;

  size_t size() const { return leaves_.size(); }
  // The command line's settings, for a leaf no rule matches.
  const Policy& policy() const { return policy_; }
  // The settings that decide a leaf: its rule's, or the command line's.
  const Policy& policy(const LeafContext& context) const;

 private:
  // A reclaim being followed for refaults.
  struct RefaultCount {
    uint64_t base_bytes = 0;     // the leaf's refault counter when the reclaim was decided
    uint64_t freed_bytes = 0;    // 0 while the reclaim runs
    uint64_t counted_bytes = 0;  // refaulted since, up to freed_bytes
    TimePoint ended{};
    bool judged = false;
  };

  Decision judge(uint64_t inode, Leaf& leaf, const MemoryStats& stats, TimePoint now);
  void follow_refaults(uint64_t inode, Leaf& leaf, const MemoryStats& stats, TimePoint now);

  Policy policy_;
  bool dry_run_;
  uint64_t scan_ = 0;
  std::unordered_map<uint64_t, Leaf> leaves_;  // by inode
  // Only leaves whose last reclaim freed something (or runs): few, so not in every Leaf.
  std::unordered_map<uint64_t, RefaultCount> refaults_;  // by inode
  std::vector<RefaultNews> refaults_news_;
};

}  // namespace cgmm::core
