#include "app/scan_pass.h"

#include "obs/events.h"

namespace cgmm::app {

ScanPass::ScanPass(const Config& config, const cgroup::Parent& parent, cgroup::LeafScanner& scanner,
                   core::Tracker& tracker, Reclaims& reclaims, LeafWatch* watch,
                   Telemetry& telemetry, OnceReport* report, const core::Clock& clock)
    : config_(config),
      parent_(parent),
      scanner_(scanner),
      tracker_(tracker),
      reclaims_(reclaims),
      watch_(watch),
      telemetry_(telemetry),
      report_(report),
      clock_(clock),
      next_(clock.now()) {}

void ScanPass::run(core::TimePoint /*now*/, bool /*ready*/) {
  const core::TimePoint start = clock_.now();
  scan();
  const core::TimePoint end = clock_.now();
  next_ += config_.interval;
  if (end >= next_) {
    obs::emit<obs::ScanOverrun>(std::chrono::duration_cast<core::Duration>(end - start),
                                config_.interval);
    next_ = end;
  }
}

void ScanPass::scan() {
  const core::TimePoint start = clock_.now();
  scanner_.scan(samples_);
  const core::TickResult r = tracker_.observe(samples_, clock_.now());
  log_changes(r);
  for (size_t i = 0; i < samples_.size(); ++i) {
    const core::LeafSample& s = samples_[i];
    const core::Decision& d = r.decisions[i];
    if (report_) {
      report_->add(s, d);
    }
    if (d.action == core::Action::kReclaim) {
      reclaims_.dispatch(s, d);
    } else if (s.stats && d.reason == core::Reason::kBackoff) {
      obs::emit<obs::DecisionBackoff>(s);  // worth seeing at debug; the others only at trace
    } else if (s.stats) {
      obs::emit<obs::Decision>(s, d.reason);
    }
  }
  if (watch_) {
    watch_->renew(samples_, r.decisions);
  }
  if (obs::Metrics* metrics = telemetry_.metrics()) {
    // Only for the publish: a per-scan vector, given back after it.
    std::vector<obs::LeafGauges> gauges;
    gauges.reserve(samples_.size());
    for (size_t i = 0; i < samples_.size(); ++i) {
      const core::LeafSample& s = samples_[i];
      if (s.stats) {
        gauges.push_back({s.name, s.inode, s.stats->cache_bytes, s.stats->limit_bytes,
                          r.decisions[i].threshold_bytes});
      } else {
        gauges.push_back({s.name, s.inode, {}, {}, {}});
        metrics->record_error("read_stats");
      }
    }
    metrics->publish_scan(clock_.now() - start, gauges);
  }
  telemetry_.scan_finished();
}

void ScanPass::log_changes(const core::TickResult& r) {
  if (first_) {
    first_ = false;
    obs::emit<obs::ScanFirst>(samples_.size(), parent_.path);
    for (size_t i : r.appeared) {
      obs::emit<obs::CgroupFound>(samples_[i].name);
    }
  } else {
    for (size_t i : r.appeared) {
      obs::emit<obs::CgroupAppeared>(samples_[i]);
    }
  }
  for (const std::string& name : r.vanished) {
    obs::emit<obs::CgroupVanished>(name);
  }
  for (size_t i : r.error_started) {
    obs::emit<obs::CgroupError>(samples_[i]);
  }
  for (size_t i : r.error_cleared) {
    obs::emit<obs::CgroupRecovered>(samples_[i].name);
  }
}

}  // namespace cgmm::app
