#include "app/reclaims.h"

#include "obs/backoff_events.h"
#include "obs/events.h"

namespace cgmm::app {

using Result = core::ReclaimResult;

Reclaims::Reclaims(const Config& config, bool can_reclaim, const cgroup::LeafDir& leaf_dir,
                   core::Tracker& tracker, ReclaimRunner& runner, obs::Metrics* metrics,
                   OnceReport* report, const core::Clock& clock)
    : config_(config),
      can_reclaim_(can_reclaim),
      leaf_dir_(leaf_dir),
      tracker_(tracker),
      runner_(runner),
      metrics_(metrics),
      report_(report),
      clock_(clock) {}

uint64_t Reclaims::amount(const core::MemoryStats& stats, const core::Policy& policy) {
  // Without shmem when it is excluded: asking for it only makes memory.reclaim work harder.
  const uint64_t counted = core::counted_cache_bytes(stats, policy);
  if (!policy.reclaim_target) {
    return counted;
  }
  const std::optional<uint64_t> target = policy.reclaim_target->bytes_for(stats.limit_bytes);
  if (!target) {
    return counted;  // a percentage of no limit: no level to keep
  }
  return counted > *target ? counted - *target : 0;
}

void Reclaims::dispatch(const core::LeafSample& leaf, const core::Decision& decision) {
  const core::MemoryStats& stats = *leaf.stats;
  const core::Policy& policy = tracker_.policy(leaf.context);
  const uint64_t target = amount(stats, policy);
  const obs::ReclaimPlan plan{leaf, policy, decision.threshold_bytes.value_or(0), target};
  if (config_.dry_run || !can_reclaim_) {
    obs::emit<obs::ReclaimSkipped>(plan);
    if (!config_.dry_run) {
      tracker_.reclaim_finished(leaf.name, leaf.inode);  // nothing runs: no reclaim is in flight
    }
    return;
  }
  obs::emit<obs::ReclaimStart>(plan);
  const core::Limit limit{stats.limit_bytes, stats.limit_kind};
  runner_.submit(ReclaimJob{std::string(leaf.name), leaf.inode, leaf.context, leaf_dir_,
                            stats.cache_bytes, target, limit});
}

void Reclaims::collect() {
  for (core::ReclaimOutcome& o : runner_.take_finished()) {
    const core::BackoffChange backoff = tracker_.reclaim_finished(o);
    log_backoff(o, backoff);
    if (metrics_) {
      metrics_->record_reclaim(o, backoff, clock_.wall_now());
      if (o.result == Result::kFailed) {
        metrics_->record_error("reclaim");
      }
    }
    log_outcome(o);
    if (report_) {
      report_->finish(std::move(o));
    }
  }
}

void Reclaims::log_backoff(const core::ReclaimOutcome& o, const core::BackoffChange& b) const {
  using K = core::BackoffChange::Kind;
  switch (b.kind) {
    case K::kNone:
      return;
    case K::kStarted:
      obs::emit<obs::ReclaimBackoff>(o, b,
                                     tracker_.policy(o.context).cooldown * core::kMaxBackoffFactor);
      return;
    case K::kLonger:
      obs::emit<obs::ReclaimBackoffLonger>(o, b);
      return;
    case K::kEnded:  // only a judgment of refaults ends a backoff
      return;
  }
}

void Reclaims::record_refaults() {
  for (const core::RefaultNews& news : tracker_.take_refaults()) {
    if (metrics_) {
      metrics_->record_refaults(news);
    }
    if (!news.judged) {
      continue;
    }
    using K = core::BackoffChange::Kind;
    switch (news.judged->change.kind) {
      case K::kNone:
        break;
      case K::kStarted:
        obs::emit<obs::ReclaimRefaulted>(
            news, tracker_.policy(news.context).cooldown * core::kMaxBackoffFactor);
        break;
      case K::kLonger:
        obs::emit<obs::ReclaimRefaultedAgain>(news);
        break;
      case K::kEnded:
        obs::emit<obs::ReclaimBackoffEnded>(news);
        break;
    }
  }
}

void Reclaims::log_outcome(const core::ReclaimOutcome& o) {
  switch (o.result) {
    case Result::kDone:
    case Result::kPartial:
      obs::emit<obs::Reclaimed>(o);
      return;
    case Result::kFailed:
      obs::emit<obs::ReclaimFailed>(o);
      return;
    case Result::kVanished:
      obs::emit<obs::ReclaimVanished>(o);
      return;
    case Result::kInterrupted:
      obs::emit<obs::ReclaimInterrupted>(o);
      return;
  }
}

}  // namespace cgmm::app
