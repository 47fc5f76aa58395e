#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <span>
#include <unordered_set>

#include "obs/leaf_series.h"
#include "obs/metrics.h"

namespace cgmm::obs {

// The daemon's metrics (prefix cgmm_), registered in the given registry. Safe to call from the
// scan thread and reclaim workers while the HTTP thread renders. Per-leaf series are labelled
// by `labeler` when rendered; without one, only their cgroup label is set.
struct LeafGauges {
  std::string_view cgroup;
  std::uint64_t cache_bytes = 0;
  std::optional<std::uint64_t> limit_bytes;
  std::optional<std::uint64_t> threshold_bytes;
};

class DaemonMetrics {
 public:
  // Interim: the one-path API.
  void publish_scan(std::chrono::duration<double> took, std::span<const LeafGauges> leaves) {
    std::unordered_set<std::string_view> seen;
    for (const LeafGauges& l : leaves) {
      set_leaf(std::string(l.cgroup), l.cache_bytes, l.limit_bytes, l.threshold_bytes);
      seen.insert(l.cgroup);
    }
    retain_leaves([&](std::string_view c) { return seen.contains(c); });
    record_scan(took, leaves.size());
  }
  void record_reclaim(std::string_view cgroup, std::string_view result, std::uint64_t bytes,
                      std::chrono::duration<double> took, std::chrono::system_clock::time_point at,
                      std::optional<std::uint64_t> /*cache_after*/) {
    record_reclaim(std::string(cgroup), result, bytes, took, at);
  }
  DaemonMetrics(Registry& registry, std::string_view version, LeafLabeler labeler = {});

  void record_scan(std::chrono::duration<double> duration, std::size_t leaves);
  void record_error(std::string_view kind);

  // `result` is a short fixed word (e.g. "ok", "partial", "failed"); `at` is when it finished.
  void record_reclaim(const std::string& leaf, std::string_view result, std::uint64_t bytes,
                      std::chrono::duration<double> duration,
                      std::chrono::system_clock::time_point at);

  // A leaf without a limit (nullopt) has no leaf_limit_bytes series; one without a threshold (a
  // percentage of no limit) has no leaf_threshold_bytes series.
  void set_leaf(const std::string& leaf, std::uint64_t cache_bytes,
                std::optional<std::uint64_t> limit_bytes,
                std::optional<std::uint64_t> threshold_bytes);

  // Drops every per-leaf series of cgroups for which `keep` is false; vanished cgroups must not
  // linger in the exposition. Call it every scan: a reclaim that finishes after its cgroup
  // vanished records the leaf again.
  void retain_leaves(const std::function<bool(std::string_view cgroup)>& keep);
  void forget_leaf(std::string_view cgroup);

 private:
  Counter& scans_;
  Histogram& scan_duration_;
  Gauge& leaves_;
  CounterFamily<1>& reclaims_;
  Counter& reclaimed_bytes_;
  Histogram& reclaim_duration_;
  CounterFamily<1>& errors_;
  // cache, limit, threshold, last reclaim
  LeafSeries<4>& leaves_series_;
};

}  // namespace cgmm::obs
