#pragma once

#include <cstdint>

#include "app/config.h"
#include "app/loop.h"
#include "app/once_report.h"
#include "app/reclaim_pool.h"
#include "cgroup/leaf_dir.h"
#include "core/clock.h"
#include "core/decide.h"
#include "core/leaf_sample.h"
#include "core/tracker.h"
#include "obs/metrics.h"

namespace cgmm::app {

// Hands reclaim decisions to the runner, and records each reclaim that ended: the Tracker's
// in-flight mark and backoff, the log, the metrics and the --once report. A loop part: it runs
// when the runner has outcomes.
class Reclaims final : public Part {
 public:
  // `can_reclaim` is false on a v2 kernel without memory.reclaim: decisions are then only
  // logged, as in a dry run. `metrics` and `report` may be null. `clock` stamps the reclaims'
  // ends on the metrics page.
  Reclaims(const Config& config, bool can_reclaim, const cgroup::LeafDir& leaf_dir,
           core::Tracker& tracker, ReclaimRunner& runner, obs::Metrics* metrics, OnceReport* report,
           const core::Clock& clock);

  // Acts on a reclaim decision for `leaf` (whose stats are set).
  void dispatch(const core::LeafSample& leaf, const core::Decision& decision);
  // Records every outcome the runner has.
  void collect();
  // Records what the Tracker counted and judged of refaults since the last call: the metrics, and
  // the log when a judgment changed a backoff. After every Tracker::observe and check.
  void record_refaults();
  size_t pending() const { return runner_.pending(); }

  int fd() const override { return runner_.wake_fd(); }
  void run(core::TimePoint /*now*/, bool /*ready*/) override { collect(); }

 private:
  // What to ask of the kernel: force_empty (v1) takes no amount; on v2 all of the counted cache,
  // or its excess over --reclaim-target.
  static uint64_t amount(const core::MemoryStats& stats, const core::Policy& policy);
  void log_backoff(const core::ReclaimOutcome& outcome, const core::BackoffChange& change) const;
  static void log_outcome(const core::ReclaimOutcome& outcome);

  const Config& config_;
  bool can_reclaim_;
  const cgroup::LeafDir& leaf_dir_;
  core::Tracker& tracker_;
  ReclaimRunner& runner_;
  obs::Metrics* metrics_;
  OnceReport* report_;
  const core::Clock& clock_;
};

}  // namespace cgmm::app
