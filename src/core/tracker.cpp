#include "core/tracker.h"

#include <algorithm>

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
      refaults_.erase(s.inode);
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
    r.decisions[i] = judge(s.inode, e, *s.stats, now);
  }

  for (auto it = leaves_.begin(); it != leaves_.end();) {
    if (it->second.seen != scan_) {
      r.vanished.push_back(std::move(it->second.name));
      refaults_.erase(it->first);
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

Decision Tracker::judge(uint64_t inode, Leaf& leaf, const MemoryStats& stats, TimePoint now) {
  if (leaf.context.runtime) {
    Decision d;
    d.reason = Reason::kRuntime;
    return d;
  }
  follow_refaults(inode, leaf, stats, now);
  Decision d = decide(stats, policy(leaf.context), leaf.state, now);
  if (d.action == Action::kReclaim) {
    leaf.state.last_reclaim = now;
    leaf.state.in_flight = !dry_run_;
    if (!dry_run_) {
      refaults_[inode] = RefaultCount{.base_bytes = stats.refault_bytes};  // the last one's ends
    }
  }
  return d;
}

void Tracker::follow_refaults(uint64_t inode, Leaf& leaf, const MemoryStats& stats, TimePoint now) {
  auto it = refaults_.find(inode);
  if (it == refaults_.end() || it->second.freed_bytes == 0) {
    return;  // no reclaim to follow, or it still runs
  }
  RefaultCount& c = it->second;
  const uint64_t since =
      stats.refault_bytes > c.base_bytes ? stats.refault_bytes - c.base_bytes : 0;
  const uint64_t counted = std::max(c.counted_bytes, std::min(since, c.freed_bytes));
  RefaultNews news;
  news.added_bytes = counted - c.counted_bytes;
  c.counted_bytes = counted;
  const Policy& p = policy(leaf.context);
  const bool harmful = harmful_reclaim(counted, c.freed_bytes);
  if (!c.judged && (harmful || now - leaf.state.last_reclaim.value_or(now) >= p.cooldown)) {
    c.judged = true;
    RefaultNews::Judgment j;
    j.harmful = harmful;
    j.freed_bytes = c.freed_bytes;
    j.refaulted_bytes = counted;
    j.within = std::chrono::duration_cast<Duration>(now - c.ended);
    LeafState& state = leaf.state;
    BackoffChange& change = j.change;
    if (harmful && p.refault_backoff) {
      if (backoff_factor(state.backoff_streak) < kMaxBackoffFactor) {
        ++state.backoff_streak;
      }
      const bool first = state.backoff_streak == 1 || !state.hot_cache;
      change.kind = first ? BackoffChange::Kind::kStarted : BackoffChange::Kind::kLonger;
      state.hot_cache = true;
    } else if (!harmful && state.backoff_streak > 0) {
      // Only a reclaim that helped ends a backoff; with refault backoff off a harmful one
      // neither lengthens nor ends it.
      state.backoff_streak = 0;
      state.hot_cache = false;
      change.kind = BackoffChange::Kind::kEnded;
    }
    change.streak = state.backoff_streak;
    change.hot_cache = state.hot_cache;
    change.wait = reclaim_wait(p, state);
    const TimePoint next = leaf.state.last_reclaim.value_or(now) + change.wait;
    j.next_in = next > now ? std::chrono::duration_cast<Duration>(next - now) : Duration{};
    news.judged = j;
  }
  if (news.added_bytes > 0 || news.judged) {
    news.name = leaf.name;
    news.inode = inode;
    news.context = leaf.context;
    refaults_news_.push_back(std::move(news));
  }
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
  return judge(sample.inode, it->second, *sample.stats, now);
}

void Tracker::reclaim_finished(std::string_view name, uint64_t inode) {
  auto it = leaves_.find(inode);
  if (it != leaves_.end() && it->second.name == name) {
    it->second.state.in_flight = false;
    refaults_.erase(inode);
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
  const auto followed = refaults_.find(outcome.inode);
  if (informative && futile_reclaim(outcome.freed_bytes(), outcome.target_bytes)) {
    // Past the cap the wait no longer grows; the streak stops counting there too.
    if (backoff_factor(state.backoff_streak) < kMaxBackoffFactor) {
      ++state.backoff_streak;
    }
    const bool first = state.backoff_streak == 1 || state.hot_cache;
    change.kind = first ? BackoffChange::Kind::kStarted : BackoffChange::Kind::kLonger;
    state.hot_cache = false;
  } else if (informative && outcome.freed_bytes() > 0 && followed != refaults_.end()) {
    // Whether it helped is known once its refaults are judged.
    followed->second.freed_bytes = outcome.freed_bytes();
    followed->second.ended = state.last_reclaim.value_or(TimePoint{}) + outcome.took;
  }
  if (followed != refaults_.end() && followed->second.freed_bytes == 0) {
    refaults_.erase(followed);  // nothing freed, nothing to come back
  }
  change.streak = state.backoff_streak;
  change.hot_cache = state.hot_cache;
  change.wait = reclaim_wait(policy(it->second.context), state);
  return change;
}

}  // namespace cgmm::core
