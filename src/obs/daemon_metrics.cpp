#include "obs/daemon_metrics.h"

namespace cgmm::obs {
namespace {

// A scan reads a few small files per leaf: sub-millisecond to a few seconds on a crowded node.
const std::vector<double> kScanBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5};
// memory.force_empty blocks for as long as the kernel keeps retrying, which can be minutes.
const std::vector<double> kReclaimBuckets = {0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                             2.5,   5,    10,   30,  60,   120};

enum LeafGauge : std::size_t { kCache, kLimit, kThreshold, kLastReclaim };

}  // namespace

DaemonMetrics::DaemonMetrics(Registry& registry, std::string_view version, LeafLabeler labeler)
    : scans_(registry.counter("cgmm_scans_total", "Scans of the leaf cgroups completed.")),
      scan_duration_(registry.histogram("cgmm_scan_duration_seconds",
                                        "Time to discover and read all leaf cgroups.",
                                        kScanBuckets)),
      leaves_(registry.gauge("cgmm_leaves", "Leaf cgroups seen by the last scan.")),
      reclaims_(registry.counter_family("cgmm_reclaims_total", "Reclaims attempted, by result.",
                                        {"result"})),
      reclaimed_bytes_(registry.counter("cgmm_reclaimed_bytes_total", "Bytes freed by reclaims.")),
      reclaim_duration_(registry.histogram("cgmm_reclaim_duration_seconds",
                                           "Time the kernel took to answer a reclaim write.",
                                           kReclaimBuckets)),
      errors_(registry.counter_family("cgmm_errors_total", "Errors the daemon carried on after.",
                                      {"kind"})),
      leaves_series_(registry.add_family(std::make_unique<LeafSeries<4>>(
          std::array<LeafSeries<4>::Metric, 4>{
              {{"cgmm_leaf_cache_bytes", "Page cache charged to the leaf cgroup."},
               {"cgmm_leaf_limit_bytes", "Effective memory limit of the leaf cgroup."},
               {"cgmm_leaf_threshold_bytes", "Page cache above which the leaf is reclaimed."},
               {"cgmm_leaf_last_reclaim_timestamp_seconds",
                "When the last reclaim of the leaf finished, in seconds since the Unix epoch."}}},
          std::move(labeler)))) {
  registry
      .gauge_family("cgmm_build_info", "Build of the running daemon; the value is always 1.",
                    {"version"})
      .with(version)
      .set(1);
}

void DaemonMetrics::record_scan(std::chrono::duration<double> duration, std::size_t leaves) {
  scans_.inc();
  scan_duration_.observe(duration.count());
  leaves_.set(static_cast<double>(leaves));
}

void DaemonMetrics::record_error(std::string_view kind) {
  errors_.with(kind).inc();
}

void DaemonMetrics::record_reclaim(const std::string& leaf, std::string_view result,
                                   std::uint64_t bytes, std::chrono::duration<double> duration,
                                   std::chrono::system_clock::time_point at) {
  reclaims_.with(result).inc();
  reclaimed_bytes_.inc(static_cast<double>(bytes));
  reclaim_duration_.observe(duration.count());
  const std::chrono::duration<double> since_epoch = at.time_since_epoch();
  leaves_series_.update(leaf, [&](auto& values) { values[kLastReclaim] = since_epoch.count(); });
}

void DaemonMetrics::set_leaf(const std::string& leaf, std::uint64_t cache_bytes,
                             std::optional<std::uint64_t> limit_bytes,
                             std::optional<std::uint64_t> threshold_bytes) {
  const auto value = [](std::optional<std::uint64_t> v) {
    return v ? static_cast<double>(*v) : LeafSeries<4>::kNone;
  };
  leaves_series_.update(leaf, [&](auto& values) {
    values[kCache] = static_cast<double>(cache_bytes);
    values[kLimit] = value(limit_bytes);
    values[kThreshold] = value(threshold_bytes);
  });
}

void DaemonMetrics::retain_leaves(const std::function<bool(std::string_view cgroup)>& keep) {
  leaves_series_.remove_if([&](std::string_view cgroup) { return !keep(cgroup); });
}

void DaemonMetrics::forget_leaf(std::string_view cgroup) {
  retain_leaves([cgroup](std::string_view c) { return c != cgroup; });
}

}  // namespace cgmm::obs
