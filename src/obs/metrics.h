#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/leaf_sample.h"
#include "core/reclaim_outcome.h"
#include "core/tracker.h"
#include "obs/exposition.h"

// The daemon's metrics (prefix cgmm_) and their Prometheus text exposition, format 0.0.4.

namespace cgmm::obs {

// Labels of the per-leaf series that its cgroup path gives. pod_uid, container_id and qos are
// empty outside Kubernetes. The series also carry `namespace`, `pod`, `container` (the node's
// names, empty where unknown) and `rule` (the policy rule that decides the leaf, empty for none);
// cgmm_leaf_limit_bytes also `limit_kind` (`max` or `high`, core::LimitKind), and
// cgmm_leaf_backoff_streak `reason` (`futile` or `hot_cache`, empty out of backoff).
struct LeafLabels {
  std::string cgroup;
  std::string pod_uid;
  std::string container_id;
  std::string qos;
};

// Derives a leaf's labels from its cgroup name, when the page is rendered: a leaf costs its
// values and its name between scrapes, not four label strings.
using LeafLabeler = std::function<LeafLabels(std::string_view cgroup)>;

// What one scan read of one leaf. A leaf is one incarnation of a cgroup, its name and inode: a
// cgroup removed and created again under the same name starts with fresh series.
struct LeafGauges {
  std::string_view cgroup;
  std::uint64_t inode = 0;
  std::optional<std::uint64_t> cache_bytes;      // none: its memory.stat could not be read
  std::optional<std::uint64_t> limit_bytes;      // none: no limit (or not read)
  std::optional<std::uint64_t> threshold_bytes;  // none: a percentage of no limit (or not read)
  const core::LeafContext* context = nullptr;    // its names and rule; null: neither
  core::LimitKind limit_kind = core::LimitKind::kMax;  // which limit limit_bytes is
  // core::working_set_bytes; none: its usage could not be read (or its memory.stat)
  std::optional<std::uint64_t> working_set_bytes = std::nullopt;
  // The Tracker's LeafState::backoff_streak and hot_cache.
  std::uint32_t backoff_streak = 0;
  bool hot_cache = false;
};

// Everything /metrics shows, as plain values under one lock: scans publish what they saw,
// reclaims and errors are counted as they end, and render() writes the page. Safe to call from
// any thread; each call holds the lock for its whole work, so a page is one consistent moment.
class Metrics {
 public:
  // Without a labeler a leaf's series carry only its cgroup label (the others empty). Without a
  // `scan_interval` (the configured --interval) the page has no cgmm_scan_interval_seconds.
  explicit Metrics(std::string_view version, LeafLabeler labeler = {},
                   std::optional<std::chrono::duration<double>> scan_interval = std::nullopt);

  // A scan that took `took` and finished at `finished` saw `leaves`: counts it, and replaces the
  // per-leaf series with those leaves. A leaf not among them loses its series (vanished cgroups
  // must not linger); one still there keeps its last-reclaim timestamp. A leaf without a value
  // for a gauge has no series of it; one that could not be read keeps the gauges of its last
  // reading (its backoff streak is the Tracker's, and always current).
  void publish_scan(std::chrono::duration<double> took,
                    std::chrono::system_clock::time_point finished,
                    std::span<const LeafGauges> leaves);

  // A reclaim ended at `at` and changed its leaf's backoff by `backoff`: counted by its result,
  // its freed bytes and its duration. Its leaf, if the last scan saw that very incarnation, gets
  // the timestamp, the backoff streak and, when the cache after the reclaim is known, that cache
  // as its cache gauge at once. Any other leaf is left alone: a reclaim that outlived its cgroup
  // brings no series back.
  void record_reclaim(const core::ReclaimOutcome& outcome, const core::BackoffChange& backoff,
                      std::chrono::system_clock::time_point at);

  // Refaults after a reclaim were counted (added to the total), and maybe judged: the judged
  // share becomes its leaf's refault ratio and the judgment's backoff its streak, if the last
  // scan saw that very incarnation.
  void record_refaults(const core::RefaultNews& news);

  // The policy file was read, at start or again, at `at`: its two gauges, which a daemon without
  // a policy does not show.
  void record_policy_load(bool ok, std::chrono::system_clock::time_point at);

  // An error the daemon carried on after; `kind` is a short fixed word ("read_stats").
  void record_error(std::string_view kind);

  // The whole exposition, to serve as kExpositionContentType. A family without series renders
  // nothing, not even its HELP and TYPE lines; per-leaf series come sorted by cgroup.
  std::string render() const;

 private:
  // Observations of one duration; bucket bounds are inclusive ("le").
  struct Histogram {
    std::span<const double> upper_bounds;
    std::vector<std::uint64_t> counts;  // per bucket, not cumulative; the last one is +Inf
    double sum = 0;
    std::uint64_t count = 0;

    explicit Histogram(std::span<const double> bounds);
    void observe(double value);
  };

  struct LeafRow {
    std::uint64_t inode = 0;
    core::LeafContext context;
    std::uint32_t scan = 0;    // the publish_scan that last saw the leaf
    float refault_ratio = -1;  // of the last judged reclaim; below 0 before any
    std::optional<std::uint64_t> cache_bytes;
    std::optional<std::uint64_t> limit_bytes;
    core::LimitKind limit_kind = core::LimitKind::kMax;
    std::optional<std::uint64_t> threshold_bytes;
    std::optional<std::uint64_t> working_set_bytes;
    std::optional<double> last_reclaim_seconds;  // since the Unix epoch
    std::uint32_t backoff_streak = 0;
    bool hot_cache = false;
  };

  std::string label_text(std::string_view cgroup, const LeafRow& row) const;

  struct PolicyLoad {
    bool ok = false;
    std::optional<double> success_seconds;  // since the Unix epoch
  };

  const std::string version_;
  const LeafLabeler labeler_;
  const std::optional<double> scan_interval_seconds_;
  mutable std::mutex mutex_;
  std::uint64_t scans_ = 0;
  Histogram scan_duration_;
  double last_scan_seconds_ = 0;  // since the Unix epoch; 0 before the first scan
  std::size_t leaves_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> reclaims_;  // by result
  std::uint64_t reclaimed_bytes_ = 0;
  std::uint64_t refaulted_bytes_ = 0;
  Histogram reclaim_duration_;
  std::map<std::string, std::uint64_t, std::less<>> errors_;  // by kind
  std::map<std::string, LeafRow, std::less<>> rows_;          // by cgroup
  std::optional<PolicyLoad> policy_;                          // none without --policy
};

}  // namespace cgmm::obs
