#include "app/scan_pass.h"

#include <algorithm>

#include "core/rules.h"
#include "k8s/pod_identity.h"
#include "obs/backoff_events.h"
#include "obs/events.h"

namespace cgmm::app {

ScanPass::ScanPass(const Config& config, const cgroup::Parent& parent, cgroup::LeafScanner& scanner,
                   Sources sources, core::Tracker& tracker, Reclaims& reclaims, LeafWatch* watch,
                   Telemetry& telemetry, OnceReport* report, const core::Clock& clock)
    : config_(config),
      parent_(parent),
      scanner_(scanner),
      sources_(sources),
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
  resolve();
  const core::TickResult r = tracker_.observe(samples_, clock_.now());
  log_changes(r);
  reclaims_.record_refaults();
  for (size_t i = 0; i < samples_.size(); ++i) {
    const core::LeafSample& s = samples_[i];
    const core::Decision& d = r.decisions[i];
    if (report_) {
      report_->add(s, d);
    }
    if (d.action == core::Action::kReclaim) {
      reclaims_.dispatch(s, d);
    } else if (s.stats &&
               (d.reason == core::Reason::kBackoff || d.reason == core::Reason::kHotCache)) {
      obs::emit<obs::DecisionBackoff>(s, d.reason);  // worth seeing at debug; the rest at trace
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
      obs::LeafGauges& g = gauges.emplace_back();
      g.cgroup = s.name;
      g.inode = s.inode;
      g.context = &s.context;
      if (const core::Tracker::Leaf* leaf = tracker_.find(s.inode)) {
        g.backoff_streak = leaf->state.backoff_streak;
        g.hot_cache = leaf->state.hot_cache;
      }
      if (!s.stats) {
        metrics->record_error("read_stats");
        continue;
      }
      g.cache_bytes = s.stats->cache_bytes;
      g.limit_bytes = s.stats->limit_bytes;
      g.limit_kind = s.stats->limit_kind;
      g.threshold_bytes = r.decisions[i].threshold_bytes;
      if (s.usage_bytes) {
        g.working_set_bytes = core::working_set_bytes(*s.usage_bytes, *s.stats);
      }
    }
    metrics->publish_scan(clock_.now() - start, clock_.wall_now(), gauges);
  }
  telemetry_.scan_finished();
}

void ScanPass::resolve() {
  const core::Rules* rules = sources_.policy ? sources_.policy->rules() : nullptr;
  const std::pair<uint64_t, uint64_t> now{sources_.names ? sources_.names->generation() : 0,
                                          sources_.policy ? sources_.policy->generation() : 0};
  const bool changed = resolved_at_ != now;
  resolved_at_ = now;
  for (core::LeafSample& s : samples_) {
    const core::Tracker::Leaf* known = changed ? nullptr : tracker_.find(s.inode);
    if (known != nullptr && known->name == s.name) {
      s.context = known->context;
    } else {
      resolve(s, rules);
    }
  }
}

void ScanPass::resolve(core::LeafSample& s, const core::Rules* rules) const {
  core::LeafContext& c = s.context;
  const std::optional<k8s::PodIdentity> id = k8s::parse_pod_identity(s.name);
  c.runtime = id && id->runtime;
  c.workload = id && sources_.names ? sources_.names->find(*id) : nullptr;
  c.rule = nullptr;
  if (rules != nullptr && rules->size() > 0) {
    // The path below the parent: the name without "<parent name>/".
    std::string_view below = s.name;
    below.remove_prefix(std::min(below.size(), parent_.name.size() + 1));
    const core::LeafFacts facts{c.workload.get(), id ? k8s::to_string(id->qos) : "", below};
    c.rule = rules->match(facts);
  }
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
