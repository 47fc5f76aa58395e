#include "core/tracker.h"

namespace cgmm::core {

TickResult Tracker::observe(std::span<const cgroup::LeafSample> samples, TimePoint now) {
  ++scan_;
  TickResult r;
  r.decisions.resize(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const cgroup::LeafSample& s = samples[i];
    auto [it, inserted] = leaves_.try_emplace(s.name);
    Entry& e = it->second;
    if (!inserted && e.inode != s.inode) {
      r.vanished.push_back(s.name);  // same name, new cgroup
      e = Entry{};
      inserted = true;
    }
    if (inserted) {
      e.inode = s.inode;
      r.appeared.push_back(i);
    }
    e.seen = scan_;

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
      r.vanished.push_back(it->first);
      it = leaves_.erase(it);
    } else {
      ++it;
    }
  }
  return r;
}

Decision Tracker::judge(Entry& entry, const cgroup::MemoryStats& stats, TimePoint now) {
  Decision d = decide(stats, policy_, entry.state, now);
  if (d.action == Action::kReclaim) {
    entry.state.last_reclaim = now;
    entry.state.in_flight = !dry_run_;
  }
  return d;
}

std::optional<Decision> Tracker::check(const cgroup::LeafSample& sample, TimePoint now) {
  auto it = leaves_.find(sample.name);
  if (it == leaves_.end() || it->second.inode != sample.inode || !sample.stats) {
    return std::nullopt;
  }
  return judge(it->second, *sample.stats, now);
}

void Tracker::reclaim_finished(std::string_view name, uint64_t inode) {
  auto it = leaves_.find(std::string(name));
  if (it != leaves_.end() && it->second.inode == inode) {
    it->second.state.in_flight = false;
  }
}

BackoffChange Tracker::reclaim_finished(const ReclaimOutcome& outcome) {
  BackoffChange change;
  auto it = leaves_.find(outcome.name);
  if (it == leaves_.end() || it->second.inode != outcome.inode) {
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
  change.wait = reclaim_wait(policy_, state);
  return change;
}

}  // namespace cgmm::core
