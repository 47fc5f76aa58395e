#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "app/config.h"
#include "app/kubelet_names.h"
#include "app/leaf_watch.h"
#include "app/loop.h"
#include "app/once_report.h"
#include "app/policy_watch.h"
#include "app/reclaims.h"
#include "app/telemetry.h"
#include "cgroup/hierarchy.h"
#include "cgroup/leaf_scan.h"
#include "core/clock.h"
#include "core/leaf_sample.h"
#include "core/tracker.h"
#include "obs/metrics.h"

namespace cgmm::app {

// One scan: discover the leaves and read their stats, decide each one, hand reclaims on, renew
// the watch between scans, and record what was seen (logs, metrics, the --once report). A loop
// part due every interval on the steady clock, so scans do not drift; one that overruns the
// interval starts the next at once, with a warning.
class ScanPass final : public Part {
 public:
  // What a scan needs besides the tree: the node's names and the policy (each may be null).
  struct Sources {
    const KubeletNames* names = nullptr;
    const PolicyWatch* policy = nullptr;
  };

  // `watch`, `report` may be null. The first scan is due at once.
  ScanPass(const Config& config, const cgroup::Parent& parent, cgroup::LeafScanner& scanner,
           Sources sources, core::Tracker& tracker, Reclaims& reclaims, LeafWatch* watch,
           Telemetry& telemetry, OnceReport* report, const core::Clock& clock);

  void scan();

  core::TimePoint due() const override { return next_; }
  void run(core::TimePoint now, bool ready) override;

 private:
  // Fills in each sample's context: who it is, and the rule that decides it. A leaf the Tracker
  // knows keeps its context while neither the names nor the rules changed.
  void resolve();
  void resolve(core::LeafSample& s, const core::Rules* rules) const;
  void log_changes(const core::TickResult& r);

  const Config& config_;
  const cgroup::Parent& parent_;
  cgroup::LeafScanner& scanner_;
  Sources sources_;
  core::Tracker& tracker_;
  Reclaims& reclaims_;
  LeafWatch* watch_;
  Telemetry& telemetry_;
  OnceReport* report_;
  const core::Clock& clock_;
  core::TimePoint next_;
  bool first_ = true;
  // The sources' generations at the last resolve; none before the first.
  std::optional<std::pair<uint64_t, uint64_t>> resolved_at_;
  std::vector<core::LeafSample> samples_;
};

}  // namespace cgmm::app
