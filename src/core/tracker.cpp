#include "core/tracker.h"

#include "core/rules.h"

namespace cgmm::core {

TickResult Tracker::observe(std::span<const LeafSample> samples, TimePoint now) {
  ++scan_;
  TickResult r;
  r.decisions.resize(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const LeafSample& s = samples[i];
    auto [it, inserted] = leaves_.try_emplace(s.inode);
    Leaf& e = it->second;
    if (!inserted && e.name != s.name) {
      r.vanished.push_back(std::move(e.name));  // renamed: a new cgroup as far as anyone knows
      e = Leaf{};
      inserted = true;
    }
    if (inserted) {
      e.name = s.name;
      r.appeared.push_back(i);
    }
    e.seen = scan_;
    e.stats = s.stats;
    e.context = s.context;

    if (!s.stats) {
      if (!e.failing) {
        e.failing = true;
        r.error_started.push_back(i);
      }
      continue;
    }
    if (e.failing) {
      e.failing = false;
      r.error_cleared.push_back(i);
    }
    r.decisions[i] = judge(e, *s.stats, now);
  }

  for (auto it = leaves_.begin(); it != leaves_.end();) {
    if (it->second.seen != scan_) {
      r.vanished.push_back(std::move(it->second.name));
      it = leaves_.erase(it);
    } else {
      ++it;
    }
  }
  return r;
}

const Policy& Tracker::policy(const LeafContext& context) const {
  return context.rule ? context.rule->policy : policy_;
}

Decision Tracker::judge(Leaf& leaf, const MemoryStats& stats, TimePoint now) {
  if (leaf.context.runtime) {
    Decision d;
    d.reason = Reason::kRuntime;
    return d;
  }
  Decision d = decide(stats, policy(leaf.context), leaf.state, now);
  if (d.action == Action::kReclaim) {
    leaf.state.last_reclaim = now;
    leaf.state.in_flight = !dry_run_;
  }
  return d;
}

const Tracker::Leaf* Tracker::find(uint64_t inode) const {
  auto it = leaves_.find(inode);
  return it == leaves_.end() ? nullptr : &it->second;
}

std::optional<Decision> Tracker::check(const LeafSample& sample, TimePoint now) {
  auto it = leaves_.find(sample.inode);
  if (it == leaves_.end() || it->second.name != sample.name || !sample.stats) {
    return std::nullopt;
  }
  it->second.stats = sample.stats;
  return judge(it->second, *sample.stats, now);
}

void Tracker::reclaim_finished(std::string_view name, uint64_t inode) {
  auto it = leaves_.find(inode);
  if (it != leaves_.end() && it->second.name == name) {
    it->second.state.in_flight = false;
  }
}

BackoffChange Tracker::reclaim_finished(const ReclaimOutcome& outcome) {
  BackoffChange change;
  auto it = leaves_.find(outcome.inode);
  if (it == leaves_.end() || it->second.name != outcome.name) {
    return change;
  }
  LeafState& state = it->second.state;
  state.in_flight = false;
  using R = ReclaimOutcome::Result;
  const bool informative = (outcome.result == R::kDone || outcome.result == R::kPartial) &&
                           outcome.cache_after_bytes.has_value();
  if (informative) {
    if (futile_reclaim(outcome.freed_bytes(), outcome.target_bytes)) {
      // Past the cap the wait no longer grows; the streak stops counting there too.
      if (backoff_factor(state.futile_streak) < kMaxBackoffFactor) {
        ++state.futile_streak;
      }
      change.kind =
          state.futile_streak == 1 ? BackoffChange::Kind::kStarted : BackoffChange::Kind::kLonger;
    } else if (state.futile_streak > 0) {
      state.futile_streak = 0;
      change.kind = BackoffChange::Kind::kEnded;
    }
  }
  change.futile_streak = state.futile_streak;
  change.wait = reclaim_wait(policy(it->second.context), state);
  return change;
}

}  // namespace cgmm::core
