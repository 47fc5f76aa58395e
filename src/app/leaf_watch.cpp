#include "app/leaf_watch.h"

#include <algorithm>

#include "cgroup/leaf_files.h"
#include "obs/events.h"

namespace cgmm::app {

LeafWatch::LeafWatch(const cgroup::Parent& parent, const cgroup::LeafDir& leaf_dir,
                     core::Tracker& tracker, Reclaims& reclaims, size_t budget)
    : parent_(parent),
      leaf_dir_(leaf_dir),
      tracker_(tracker),
      reclaims_(reclaims),
      budget_(budget),
      watch_(parent.version) {}

void LeafWatch::renew(std::span<const core::LeafSample> leaves,
                      std::span<const core::Decision> decisions) {
  pending_.clear();
  for (size_t i = 0; i < leaves.size(); ++i) {
    const core::LeafSample& s = leaves[i];
    const std::optional<uint64_t>& threshold = decisions[i].threshold_bytes;
    if (s.stats && threshold && !watch_.renew(s.inode, *threshold)) {
      pending_.push_back({s.inode, *threshold});
    }
  }
  watch_.sweep();
  // Taken from the back: registered in increasing inode order, which for new cgroups is mostly
  // the order they were made in.
  std::sort(pending_.begin(), pending_.end(),
            [](const Pending& a, const Pending& b) { return a.inode > b.inode; });
}

core::TimePoint LeafWatch::due() const {
  if (!pending_.empty()) {
    return core::TimePoint{};  // look at signals and events without sleeping, then register one
  }
  core::TimePoint at = watch_.next_due();
  for (const Recheck& r : rechecks_) {
    at = std::min(at, r.at);
  }
  return at;
}

void LeafWatch::run(core::TimePoint now, bool ready) {
  for (size_t i = 0; i < rechecks_.size();) {
    if (rechecks_[i].at > now) {
      ++i;
      continue;
    }
    const uint64_t inode = rechecks_[i].inode;
    rechecks_[i] = rechecks_.back();
    rechecks_.pop_back();
    check(inode, now);
  }
  if (ready || watch_.next_due() <= now) {
    fired_.clear();
    watch_.take(fired_, now);
    for (uint64_t inode : fired_) {
      check(inode, now);
    }
  }
  register_one();
}

cgroup::UsageWatch::OpenDir LeafWatch::opener(std::string_view name, uint64_t inode) const {
  return [this, name, inode] { return leaf_dir_.open(name, inode); };
}

void LeafWatch::check(uint64_t inode, core::TimePoint now) {
  const core::Tracker::Leaf* known = tracker_.find(inode);
  if (known == nullptr) {
    return;  // gone since: the scan said so
  }
  core::LeafSample leaf{known->name, inode, {}, {}, known->context, {}};
  auto dir = leaf_dir_.open(leaf.name, inode);
  if (!dir) {
    return;
  }
  const core::Limit limit = known->stats
                                ? core::Limit{known->stats->limit_bytes, known->stats->limit_kind}
                                : core::Limit{};
  auto stats = cgroup::read_leaf_stats(dir->get(), parent_.version, limit, buf_);
  if (!stats) {
    return;
  }
  leaf.stats = *stats;
  const std::optional<core::Decision> d = tracker_.check(leaf, now);
  reclaims_.record_refaults();
  if (!d) {
    return;
  }
  if (d->action == core::Action::kReclaim) {
    reclaims_.dispatch(leaf, *d);
  } else if (d->reason == core::Reason::kBelowThreshold) {
    move_level(leaf, dir->get(), *d->threshold_bytes);
  } else if (d->retry_at) {
    // Over its level but held back: look again the moment the wait ends, not a whole interval
    // later. One pending look per leaf is enough.
    if (std::none_of(rechecks_.begin(), rechecks_.end(),
                     [&](const Recheck& r) { return r.inode == inode; })) {
      rechecks_.push_back({*d->retry_at, inode});
    }
  }
}

void LeafWatch::move_level(const core::LeafSample& leaf, int dir_fd, uint64_t threshold) {
  auto usage = cgroup::read_usage(dir_fd, parent_.version, buf_);
  if (!usage) {
    return;
  }
  const uint64_t counted = core::counted_cache_bytes(*leaf.stats, tracker_.policy(leaf.context));
  const uint64_t other = *usage > counted ? *usage - counted : 0;
  const uint64_t level = threshold + std::min(other, UINT64_MAX - threshold);
  obs::emit<obs::NotifyLevel>(leaf.name, *usage, counted, level);
  watch_.move_level(leaf.inode, level, opener(leaf.name, leaf.inode));
}

void LeafWatch::register_one() {
  if (pending_.empty()) {
    return;
  }
  const Pending p = pending_.back();
  pending_.pop_back();
  if (pending_.empty()) {
    pending_.shrink_to_fit();  // a start-up's worth is not needed again
  }
  const core::Tracker::Leaf* known = tracker_.find(p.inode);
  if (known == nullptr) {
    return;
  }
  const std::string name = known->name;
  if (watch_.size() >= budget_) {
    // The other half of the descriptors belongs to the scanner, the reclaims and the listener.
    warn_unwatched(name, "the " + std::to_string(budget_) +
                             " descriptors for watches (half of RLIMIT_NOFILE) are in use");
    pending_ = {};
    return;
  }
  auto st = watch_.watch(p.inode, p.threshold, opener(name, p.inode));
  if (!st && !st.error().vanished()) {
    warn_unwatched(name, st.error().describe(name));
  }
  if (!st && (st.error().err == EMFILE || st.error().err == ENFILE)) {
    pending_ = {};  // out of descriptors: the rest would fail the same way; the next scan retries
  }
}

void LeafWatch::warn_unwatched(std::string_view cgroup, const std::string& why) {
  if (!warned_) {
    warned_ = true;
    obs::emit<obs::NotifyUnavailable>(cgroup, why);
  }
}

}  // namespace cgmm::app
