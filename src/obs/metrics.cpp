#include "obs/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/rules.h"

namespace cgmm::obs {
namespace {

// A scan reads a few small files per leaf: sub-millisecond to a few seconds on a crowded node.
constexpr std::array<double, 13> kScanBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,  5};
// memory.force_empty blocks for as long as the kernel keeps retrying, which can be minutes.
constexpr std::array<double, 13> kReclaimBuckets = {0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                                    2.5,   5,    10,   30,  60,   120};

// In the order of the page.
constexpr Family kScans = {"cgmm_scans_total", "counter", "Scans of the leaf cgroups completed."};
constexpr Family kScanDuration = {"cgmm_scan_duration_seconds", "histogram",
                                  "Time to discover and read all leaf cgroups."};
// With the interval, an alert can tell a daemon whose scans stopped: the page keeps being served.
constexpr Family kLastScan = {
    "cgmm_last_scan_timestamp_seconds", "gauge",
    "When the last scan finished, in seconds since the Unix epoch; 0 before the first."};
constexpr Family kScanInterval = {"cgmm_scan_interval_seconds", "gauge",
                                  "Time from the start of one scan to the next (--interval)."};
constexpr Family kLeaves = {"cgmm_leaves", "gauge", "Leaf cgroups seen by the last scan."};
constexpr Family kReclaims = {"cgmm_reclaims_total", "counter", "Reclaims attempted, by result."};
constexpr Family kReclaimedBytes = {"cgmm_reclaimed_bytes_total", "counter",
                                    "Bytes freed by reclaims."};
constexpr Family kReclaimRefaultedBytes = {
    "cgmm_reclaim_refaulted_bytes_total", "counter",
    "Bytes of what reclaims freed that their leaves read back before their next reclaim."};
constexpr Family kReclaimDuration = {"cgmm_reclaim_duration_seconds", "histogram",
                                     "Time the kernel took to answer a reclaim write."};
constexpr Family kErrors = {"cgmm_errors_total", "counter", "Errors the daemon carried on after."};
constexpr Family kLeafCache = {"cgmm_leaf_cache_bytes", "gauge",
                               "Page cache charged to the leaf cgroup."};
constexpr Family kLeafWorkingSet = {
    "cgmm_leaf_working_set_bytes", "gauge",
    "Working set of the leaf cgroup as the kubelet counts it for eviction: its memory usage less "
    "its inactive page cache, at least 0 (v1: memory.usage_in_bytes less total_inactive_file; "
    "v2: memory.current less inactive_file)."};
constexpr Family kLeafLimit = {
    "cgmm_leaf_limit_bytes", "gauge",
    "Effective memory limit of the leaf cgroup; limit_kind: max (the hard limit) or high (v2 "
    "memory.high)."};
constexpr Family kLeafThreshold = {"cgmm_leaf_threshold_bytes", "gauge",
                                   "Page cache above which the leaf is reclaimed."};
constexpr Family kLeafLastReclaim = {
    "cgmm_leaf_last_reclaim_timestamp_seconds", "gauge",
    "When the last reclaim of the leaf finished, in seconds since the Unix epoch."};
constexpr Family kLeafRefaultRatio = {
    "cgmm_leaf_refault_ratio", "gauge",
    "Share of what the leaf's last judged reclaim freed that it read back within a cooldown."};
// The streak stops growing where the wait does (core::kMaxBackoffFactor, 16 cooldowns: 4 in a row).
static_assert(core::kMaxBackoffFactor == 16, "cgmm_leaf_backoff_streak's help says 4 at most");
constexpr Family kLeafBackoffStreak = {
    "cgmm_leaf_backoff_streak", "gauge",
    "Reclaims in a row of the leaf that were futile (freed under a tenth of their target) or "
    "harmful (reason hot_cache: half of what they freed was read back within a cooldown), 4 at "
    "most; each doubles the wait for the next reclaim. 0 out of backoff."};
constexpr Family kPolicyReloadOk = {
    "cgmm_policy_last_reload_successful", "gauge",
    "Whether the last read of the policy file succeeded (1) or failed (0)."};
constexpr Family kPolicyReloadTime = {
    "cgmm_policy_last_reload_success_timestamp_seconds", "gauge",
    "When the policy file was last read successfully, in seconds since the Unix epoch."};
constexpr Family kBuildInfo = {"cgmm_build_info", "gauge",
                               "Build of the running daemon; the value is always 1."};

// One family of counters with one label; nothing before the first count.
void append_counters(std::string& out, const Family& family, std::string_view label_name,
                     const std::map<std::string, std::uint64_t, std::less<>>& counts) {
  if (counts.empty()) {
    return;
  }
  append_header(out, family);
  for (const auto& [value, count] : counts) {
    append_sample(out, family.name, label(label_name, value), static_cast<double>(count));
  }
}

void increment(std::map<std::string, std::uint64_t, std::less<>>& counts, std::string_view key) {
  auto it = counts.find(key);
  if (it == counts.end()) {
    it = counts.emplace(std::string(key), 0).first;
  }
  ++it->second;
}

// Seconds since the Unix epoch, whole seconds and their fraction apart: nanoseconds since the
// epoch are past 2^53, so as one double they are rounded already (1700000010.25 would print as
// 1700000010.2499998).
double epoch_seconds(std::chrono::system_clock::time_point at) {
  const auto whole = std::chrono::floor<std::chrono::seconds>(at);
  return static_cast<double>(whole.time_since_epoch().count()) +
         std::chrono::duration<double>(at - whole).count();
}

std::optional<double> as_double(std::optional<std::uint64_t> value) {
  return value ? std::optional(static_cast<double>(*value)) : std::nullopt;
}

}  // namespace

Metrics::Histogram::Histogram(std::span<const double> bounds)
    : upper_bounds(bounds), counts(bounds.size() + 1, 0) {}

void Metrics::Histogram::observe(double value) {
  const auto bucket = std::ranges::lower_bound(upper_bounds, value) - upper_bounds.begin();
  ++counts[static_cast<std::size_t>(bucket)];
  sum += value;
  ++count;
}

Metrics::Metrics(std::string_view version, LeafLabeler labeler,
                 std::optional<std::chrono::duration<double>> scan_interval)
    : version_(version),
      labeler_(std::move(labeler)),
      scan_interval_seconds_(scan_interval ? std::optional(scan_interval->count()) : std::nullopt),
      scan_duration_(kScanBuckets),
      reclaim_duration_(kReclaimBuckets) {}

std::string Metrics::label_text(std::string_view cgroup, const LeafRow& row) const {
  const LeafLabels l = labeler_ ? labeler_(cgroup) : LeafLabels{std::string(cgroup), {}, {}, {}};
  const core::Workload* w = row.context.workload.get();
  const bool container_named = w != nullptr && !row.context.runtime;
  std::string text =
      label("cgroup", l.cgroup) + ',' + label("namespace", w ? w->namespace_name : "") + ',' +
      label("pod", w ? w->pod : "") + ',' +
      label("container", container_named ? w->container : "") + ',' + label("pod_uid", l.pod_uid) +
      ',' + label("container_id", l.container_id) + ',' + label("qos", l.qos) + ',' +
      label("rule", row.context.rule ? row.context.rule->name : "");
  return text;
}

void Metrics::publish_scan(std::chrono::duration<double> took,
                           std::chrono::system_clock::time_point finished,
                           std::span<const LeafGauges> leaves) {
  const std::lock_guard lock(mutex_);
  ++scans_;
  scan_duration_.observe(took.count());
  last_scan_seconds_ = epoch_seconds(finished);
  leaves_ = leaves.size();
  const auto scan = static_cast<std::uint32_t>(scans_);  // only equality is used
  for (const LeafGauges& leaf : leaves) {
    auto it = rows_.find(leaf.cgroup);
    const bool created = it == rows_.end();
    if (created) {
      it = rows_.emplace(std::string(leaf.cgroup), LeafRow{}).first;
    }
    LeafRow& row = it->second;
    if (!created && row.inode != leaf.inode) {
      row = LeafRow{};  // another incarnation: nothing of the old carries over
    }
    row.inode = leaf.inode;
    row.scan = scan;
    row.context = leaf.context ? *leaf.context : core::LeafContext{};
    row.backoff_streak = leaf.backoff_streak;
    row.hot_cache = leaf.hot_cache;
    if (leaf.cache_bytes) {
      row.cache_bytes = leaf.cache_bytes;
      row.working_set_bytes = leaf.working_set_bytes;
      row.limit_bytes = leaf.limit_bytes;
      row.limit_kind = leaf.limit_kind;
      row.threshold_bytes = leaf.threshold_bytes;
    }
  }
  std::erase_if(rows_, [scan](const auto& entry) { return entry.second.scan != scan; });
}

void Metrics::record_reclaim(const core::ReclaimOutcome& outcome,
                             const core::BackoffChange& backoff,
                             std::chrono::system_clock::time_point at) {
  const std::lock_guard lock(mutex_);
  increment(reclaims_, core::to_string(outcome.result));
  reclaimed_bytes_ += outcome.freed_bytes();
  reclaim_duration_.observe(std::chrono::duration<double>(outcome.took).count());
  auto it = rows_.find(outcome.name);
  if (it == rows_.end() || it->second.inode != outcome.inode) {
    return;
  }
  it->second.last_reclaim_seconds = epoch_seconds(at);
  it->second.backoff_streak = backoff.streak;
  it->second.hot_cache = backoff.hot_cache;
  if (outcome.cache_after_bytes) {
    it->second.cache_bytes = outcome.cache_after_bytes;
  }
}

void Metrics::record_refaults(const core::RefaultNews& news) {
  const std::lock_guard lock(mutex_);
  refaulted_bytes_ += news.added_bytes;
  auto it = rows_.find(news.name);
  if (!news.judged || news.judged->freed_bytes == 0 || it == rows_.end() ||
      it->second.inode != news.inode) {
    return;
  }
  it->second.backoff_streak = news.judged->change.streak;
  it->second.hot_cache = news.judged->change.hot_cache;
  it->second.refault_ratio = static_cast<float>(static_cast<double>(news.judged->refaulted_bytes) /
                                                static_cast<double>(news.judged->freed_bytes));
}

void Metrics::record_policy_load(bool ok, std::chrono::system_clock::time_point at) {
  const std::lock_guard lock(mutex_);
  PolicyLoad load = policy_.value_or(PolicyLoad{false, std::nullopt});
  load.ok = ok;
  if (ok) {
    load.success_seconds = epoch_seconds(at);
  }
  policy_ = load;
}

void Metrics::record_error(std::string_view kind) {
  const std::lock_guard lock(mutex_);
  increment(errors_, kind);
}

std::string Metrics::render() const {
  std::string out;
  const auto histogram = [&out](const Family& family, const Histogram& h) {
    append_header(out, family);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < h.upper_bounds.size(); ++i) {
      running += h.counts[i];
      append_sample(out, family.name, "_bucket", "le=\"" + format_value(h.upper_bounds[i]) + '"',
                    std::to_string(running));
    }
    append_sample(out, family.name, "_bucket", "le=\"+Inf\"", std::to_string(h.count));
    append_sample(out, family.name, "_sum", "", format_value(h.sum));
    append_sample(out, family.name, "_count", "", std::to_string(h.count));
  };
  std::vector<std::string> labels;  // of each row, in order
  // `extra_label` adds a label of the family's own after the leaf's.
  const auto leaf_gauges = [&](const Family& family,
                               std::optional<double> (*value_of)(const LeafRow&),
                               std::string (*extra_label)(const LeafRow&) = nullptr) {
    bool header = false;
    size_t i = 0;
    for (const auto& [name, row] : rows_) {
      const std::string& row_labels = labels[i++];
      const std::optional<double> value = value_of(row);
      if (!value) {
        continue;
      }
      if (!header) {
        append_header(out, family);
        header = true;
      }
      append_sample(out, family.name,
                    extra_label ? row_labels + ',' + extra_label(row) : row_labels, *value);
    }
  };

  const std::lock_guard lock(mutex_);
  labels.reserve(rows_.size());
  for (const auto& [name, row] : rows_) {
    labels.push_back(label_text(name, row));
  }
  append_header(out, kScans);
  append_sample(out, kScans.name, "", static_cast<double>(scans_));
  histogram(kScanDuration, scan_duration_);
  append_header(out, kLastScan);
  append_sample(out, kLastScan.name, "", last_scan_seconds_);
  if (scan_interval_seconds_) {
    append_header(out, kScanInterval);
    append_sample(out, kScanInterval.name, "", *scan_interval_seconds_);
  }
  append_header(out, kLeaves);
  append_sample(out, kLeaves.name, "", static_cast<double>(leaves_));
  append_counters(out, kReclaims, "result", reclaims_);
  append_header(out, kReclaimedBytes);
  append_sample(out, kReclaimedBytes.name, "", static_cast<double>(reclaimed_bytes_));
  append_header(out, kReclaimRefaultedBytes);
  append_sample(out, kReclaimRefaultedBytes.name, "", static_cast<double>(refaulted_bytes_));
  histogram(kReclaimDuration, reclaim_duration_);
  append_counters(out, kErrors, "kind", errors_);
  leaf_gauges(kLeafCache, [](const LeafRow& r) { return as_double(r.cache_bytes); });
  leaf_gauges(kLeafWorkingSet, [](const LeafRow& r) { return as_double(r.working_set_bytes); });
  leaf_gauges(
      kLeafLimit, [](const LeafRow& r) { return as_double(r.limit_bytes); },
      [](const LeafRow& r) { return label("limit_kind", core::to_string(r.limit_kind)); });
  leaf_gauges(kLeafThreshold, [](const LeafRow& r) { return as_double(r.threshold_bytes); });
  leaf_gauges(kLeafLastReclaim, [](const LeafRow& r) { return r.last_reclaim_seconds; });
  leaf_gauges(kLeafRefaultRatio, [](const LeafRow& r) -> std::optional<double> {
    // Kept as a float: four decimals are all it holds honestly.
    return r.refault_ratio >= 0 ? std::optional<double>(std::round(r.refault_ratio * 1e4) / 1e4)
                                : std::nullopt;
  });
  leaf_gauges(
      kLeafBackoffStreak,
      [](const LeafRow& r) -> std::optional<double> {
        // Like every gauge of a leaf, none before its first reading.
        return r.cache_bytes ? std::optional<double>(r.backoff_streak) : std::nullopt;
      },
      [](const LeafRow& r) {
        return label("reason", r.backoff_streak == 0 ? "" : r.hot_cache ? "hot_cache" : "futile");
      });
  if (policy_) {
    append_header(out, kPolicyReloadOk);
    append_sample(out, kPolicyReloadOk.name, "", policy_->ok ? 1 : 0);
    if (policy_->success_seconds) {
      append_header(out, kPolicyReloadTime);
      append_sample(out, kPolicyReloadTime.name, "", *policy_->success_seconds);
    }
  }
  append_header(out, kBuildInfo);
  append_sample(out, kBuildInfo.name, label("version", version_), 1);
  return out;
}

}  // namespace cgmm::obs
