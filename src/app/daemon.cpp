#include "app/daemon.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <iostream>
#include <system_error>

#include "cgroup/files.h"
#include "k8s/pod_identity.h"
#include "obs/log.h"

namespace cgmm::app {

namespace {

using core::format_bytes;
using core::format_duration;
using obs::Level;
using obs::log_event;

// Force_empty can block for a long time on one cgroup; a few workers keep the others moving
// without letting reclaim take over the node's CPUs.
constexpr size_t kReclaimWorkers = 2;

const char* version_name(cgroup::Version v) {
  return v == cgroup::Version::kV1 ? "v1" : "v2";
}

std::string threshold_text(const core::Threshold& t) {
  return t.is_percent() ? t.to_string() + " of each cgroup's limit" : t.to_string();
}

std::string limit_text(const std::optional<uint64_t>& limit) {
  return limit ? format_bytes(*limit) : "none";
}

nlohmann::json optional_json(const std::optional<uint64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

double seconds(core::Duration d) {
  return std::chrono::duration<double>(d).count();
}

cgroup::LeafScanOptions scan_options(const Config& config) {
  cgroup::LeafScanOptions options;
  if (config.notifications && !config.once) {
    // Each watched leaf holds a descriptor (an eventfd on v1, memory.current on v2): leave half
    // of them to the watches, besides the scanner's usual reserve for everything else.
    options.fd_reserve += cgroup::raise_fd_limit() / 2;
  }
  return options;
}

}  // namespace

Daemon::Daemon(const Config& config, cgroup::Parent parent, SignalFd& signals,
               const core::Clock& clock)
    : config_(config),
      parent_(std::move(parent)),
      signals_(signals),
      clock_(clock),
      scanner_(parent_, scan_options(config)),
      tracker_(config.policy, config.dry_run),
      pool_(kReclaimWorkers, parent_.version),
      telemetry_(config.listen, config.interval, clock_) {
  if (config_.reclaim_target && parent_.version == cgroup::Version::kV1) {
    throw UsageError(
        "--reclaim-target needs cgroup v2 (memory.reclaim); on cgroup v1 "
        "memory.force_empty always reclaims all it can");
  }
  if (config_.notifications && !config_.once) {
    if (parent_.version == cgroup::Version::kV2) {
      events_ = std::make_unique<cgroup::UsagePoll>();
    } else if (auto v1 = std::make_unique<cgroup::UsageEvents>(); v1->valid()) {
      events_ = std::move(v1);
    }
    watch_budget_ = cgroup::raise_fd_limit() / 2;
  }
  // Probed once: a v2 kernel before 5.19 has no memory.reclaim anywhere.
  can_reclaim_ =
      parent_.version == cgroup::Version::kV1 ||
      ::faccessat(parent_.fd.get(), cgroup::files::kMemoryReclaim, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  try {
    telemetry_.start();
  } catch (const std::system_error& e) {
    // The --listen address cannot be bound: only a change of configuration can fix that.
    throw UsageError(e.what());
  }
}

int Daemon::run() {
  log_event(Level::info, "start",
            "starting: parent " + parent_.path + " (cgroup " + version_name(parent_.version) +
                "), threshold " + threshold_text(config_.policy.threshold) +
                (config_.reclaim_target ? ", reclaim down to " + config_.reclaim_target->to_string()
                                        : "") +
                ", interval " + format_duration(config_.interval) + ", cooldown " +
                format_duration(config_.policy.cooldown) +
                (config_.policy.exclude_shmem ? ", shmem excluded" : "") +
                (config_.dry_run ? ", dry run" : "") + (config_.once ? ", one pass" : "") +
                (config_.listen ? ", metrics on " + config_.listen->to_string() : "") +
                (events_ ? parent_.version == cgroup::Version::kV1
                               ? ", memory threshold notifications on"
                               : ", memory.current watched between scans"
                         : ""),
            {{"parent", parent_.path},
             {"notifications", events_ != nullptr},
             {"cgroup_version", version_name(parent_.version)},
             {"threshold", config_.policy.threshold.to_string()},
             {"interval_seconds", seconds(config_.interval)},
             {"cooldown_seconds", seconds(config_.policy.cooldown)},
             {"exclude_shmem", config_.policy.exclude_shmem},
             {"dry_run", config_.dry_run},
             {"listen", config_.listen ? config_.listen->to_string() : ""},
             {"version", CGMM_VERSION}});
  if (!can_reclaim_) {
    log_event(Level::warn, "reclaim_unavailable",
              "this kernel has no memory.reclaim (cgroup v2 needs Linux 5.19 or later): watching "
              "and reporting only, nothing will be reclaimed");
  }

  core::TimePoint next = clock_.now();
  for (;;) {
    const core::TimePoint start = clock_.now();
    scan();
    if (config_.once) {
      return finish_once();
    }
    const core::TimePoint end = clock_.now();
    next += config_.interval;
    if (end >= next) {
      auto took = std::chrono::duration_cast<core::Duration>(end - start);
      log_event(Level::warn, "scan_overrun",
                "scan took " + format_duration(took) + ", longer than the interval " +
                    format_duration(config_.interval) + "; starting the next one at once",
                {{"duration_seconds", seconds(took)}});
      next = end;
    }
    if (!wait_until(next)) {
      break;
    }
  }
  log_event(Level::info, "stop", "stopping");
  pool_.stop();
  telemetry_.stop();
  return 0;
}

Daemon::LeafInfo Daemon::info(std::string_view name) {
  LeafInfo li{leaf_labels(name), k8s::display_name(name)};
  return li;
}

void Daemon::scan() {
  const core::TimePoint start = clock_.now();
  scanner_.scan(samples_);
  const core::TickResult r = tracker_.observe(samples_, clock_.now());
  log_changes(r);

  obs::Metrics* metrics = telemetry_.metrics();
  std::vector<obs::LeafGauges> leaves;
  if (config_.once) {
    report_.clear();
  }
  for (size_t i = 0; i < samples_.size(); ++i) {
    const cgroup::LeafSample& s = samples_[i];
    const core::Decision& d = r.decisions[i];
    if (metrics) {
      if (s.stats) {
        leaves.push_back(
            {s.name, s.inode, s.stats->cache_bytes, s.stats->limit_bytes, d.threshold_bytes});
      } else {
        leaves.push_back({s.name, s.inode, {}, {}, {}});
        metrics->record_error("read_stats");
      }
    }
    if (config_.once) {
      const LeafInfo li = info(s.name);
      report_.push_back({s.name.str(),
                         li.display,
                         li.labels.pod_uid,
                         li.labels.container_id,
                         li.labels.qos,
                         s.stats,
                         s.error ? s.error->describe(s.name) : "",
                         d,
                         {}});
    }
    if (d.action == core::Action::kReclaim) {
      dispatch(i, d);
    } else if (s.stats && d.reason == core::Reason::kBackoff) {
      // A leaf held back by the backoff is worth seeing at debug, the others only at trace.
      log_event(Level::debug, "decision",
                info(s.name).display + ": backoff (cache " + format_bytes(s.stats->cache_bytes) +
                    ", shmem " + format_bytes(s.stats->shmem_bytes) + ")",
                {{"cgroup", s.name}, {"reason", core::to_string(d.reason)}});
    } else if (s.stats && obs::log_enabled(Level::trace)) {
      log_event(Level::trace, "decision",
                info(s.name).display + ": " + core::to_string(d.reason) + " (cache " +
                    format_bytes(s.stats->cache_bytes) + ")",
                {{"cgroup", s.name}, {"reason", core::to_string(d.reason)}});
    }
  }
  if (events_) {
    watch_levels(r);
  }
  if (!rechecks_.empty()) {
    remap_rechecks();
  }
  if (metrics) {
    metrics->publish_scan(clock_.now() - start, leaves);
  }
  telemetry_.scan_finished();
}

void Daemon::log_changes(const core::TickResult& r) {
  if (first_scan_) {
    first_scan_ = false;
    log_event(Level::info, "scan_first",
              "watching " + std::to_string(samples_.size()) + " leaf cgroups under " + parent_.path,
              {{"leaves", samples_.size()}});
    for (size_t i : r.appeared) {
      log_event(Level::debug, "cgroup_found", "found cgroup " + samples_[i].name,
                {{"cgroup", samples_[i].name}});
    }
  } else {
    for (size_t i : r.appeared) {
      const cgroup::LeafSample& s = samples_[i];
      const LeafInfo li = info(s.name);
      log_event(Level::info, "cgroup_appeared",
                "cgroup " + s.name + " appeared" +
                    (s.stats ? " (cache " + format_bytes(s.stats->cache_bytes) + ", limit " +
                                   limit_text(s.stats->limit_bytes) + ")"
                             : ""),
                {{"cgroup", s.name},
                 {"pod_uid", li.labels.pod_uid},
                 {"container_id", li.labels.container_id}});
    }
  }
  for (const cgroup::LeafName& name : r.vanished) {
    log_event(Level::info, "cgroup_vanished", "cgroup " + name + " disappeared",
              {{"cgroup", name.view()}});
  }
  for (size_t i : r.error_started) {
    const cgroup::LeafSample& s = samples_[i];
    const std::string what = s.error->describe(s.name);
    log_event(Level::warn, "cgroup_error", what + ", ignoring it until it reads again",
              {{"cgroup", s.name}, {"error", what}});
  }
  for (size_t i : r.error_cleared) {
    log_event(Level::info, "cgroup_recovered", "cgroup " + samples_[i].name + " reads again",
              {{"cgroup", samples_[i].name}});
  }
}

uint64_t Daemon::reclaim_amount(const cgroup::MemoryStats& stats) const {
  // force_empty (v1) takes no amount. On v2 the default mirrors it: all of the counted cache
  // (without shmem when it is excluded: asking for it only makes memory.reclaim work harder).
  const uint64_t counted = core::counted_cache_bytes(stats, config_.policy);
  if (!config_.reclaim_target) {
    return counted;
  }
  std::optional<uint64_t> target = config_.reclaim_target->bytes_for(stats.limit_bytes);
  if (!target) {
    return counted;  // a percentage of no limit: no level to keep
  }
  return counted > *target ? counted - *target : 0;
}

void Daemon::dispatch(size_t index, const core::Decision& decision) {
  cgroup::LeafSample& s = samples_[index];
  const LeafInfo li = info(s.name);
  const uint64_t cache = s.stats->cache_bytes;
  const uint64_t amount = reclaim_amount(*s.stats);
  const std::string counted =
      config_.policy.exclude_shmem
          ? "reclaimable cache " +
                format_bytes(core::counted_cache_bytes(*s.stats, config_.policy)) + " (shmem " +
                format_bytes(s.stats->shmem_bytes) + " not counted)"
          : "cache " + format_bytes(cache);
  const std::string over = counted + " over threshold " + format_bytes(*decision.threshold_bytes) +
                           " (limit " + limit_text(s.stats->limit_bytes) + ")";
  std::initializer_list<obs::Field> fields = {{"cgroup", s.name},
                                              {"pod_uid", li.labels.pod_uid},
                                              {"container_id", li.labels.container_id},
                                              {"cache_bytes", cache},
                                              {"shmem_bytes", s.stats->shmem_bytes},
                                              {"threshold_bytes", *decision.threshold_bytes},
                                              {"limit_bytes", optional_json(s.stats->limit_bytes)},
                                              {"target_bytes", amount}};
  if (config_.dry_run || !can_reclaim_) {
    log_event(Level::info, "reclaim_skipped", "would reclaim " + li.display + ": " + over, fields);
    if (!config_.dry_run) {
      tracker_.reclaim_finished(s.name, s.inode);  // nothing runs: no reclaim is in flight
    }
    return;
  }
  log_event(Level::debug, "reclaim_start", "reclaiming " + li.display + ": " + over, fields);
  pool_.submit(
      ReclaimJob{s.name, s.inode, scanner_.leaf_dir(), cache, amount, s.stats->limit_bytes});
}

void Daemon::collect_finished() {
  for (core::ReclaimOutcome& o : pool_.take_finished()) {
    const core::BackoffChange backoff = tracker_.reclaim_finished(o);
    using R = core::ReclaimOutcome::Result;
    const LeafInfo li = info(o.name);
    log_backoff(o, li, backoff);
    if (obs::Metrics* m = telemetry_.metrics()) {
      m->record_reclaim(o, std::chrono::system_clock::now());
      if (o.result == R::kFailed) {
        m->record_error("reclaim");
      }
    }
    switch (o.result) {
      case R::kDone:
      case R::kPartial:
        log_event(
            Level::info, "reclaim",
            "reclaimed " + li.display + ": cache " + format_bytes(o.cache_before_bytes) + " -> " +
                (o.cache_after_bytes ? format_bytes(*o.cache_after_bytes) : "unknown") +
                ", freed " + format_bytes(o.freed_bytes()) + " in " + format_duration(o.took) +
                (o.result == R::kPartial
                     ? " (less than the " + format_bytes(o.target_bytes) + " asked)"
                     : ""),
            {{"cgroup", o.name},
             {"pod_uid", li.labels.pod_uid},
             {"container_id", li.labels.container_id},
             {"result", core::to_string(o.result)},
             {"cache_bytes", o.cache_before_bytes},
             {"cache_after_bytes", optional_json(o.cache_after_bytes)},
             {"target_bytes", o.target_bytes},
             {"freed_bytes", o.freed_bytes()},
             {"duration_seconds", seconds(o.took)}});
        break;
      case R::kFailed:
        log_event(Level::warn, "reclaim_failed", o.error + ", trying again after the cooldown",
                  {{"cgroup", o.name},
                   {"pod_uid", li.labels.pod_uid},
                   {"container_id", li.labels.container_id},
                   {"error", o.error},
                   {"duration_seconds", seconds(o.took)}});
        break;
      case R::kVanished:
        log_event(Level::debug, "reclaim_vanished",
                  "cgroup " + o.name + " disappeared during its reclaim", {{"cgroup", o.name}});
        break;
      case R::kInterrupted:
        log_event(Level::info, "reclaim_interrupted", "reclaim of " + li.display + " interrupted",
                  {{"cgroup", o.name}});
        break;
    }
    if (config_.once) {
      auto row = std::find_if(report_.begin(), report_.end(),
                              [&](const obs::ReportRow& r) { return r.name == o.name; });
      if (row != report_.end()) {
        row->outcome = std::move(o);
      }
    }
  }
}

void Daemon::log_backoff(const core::ReclaimOutcome& o, const LeafInfo& li,
                         const core::BackoffChange& b) {
  using K = core::BackoffChange::Kind;
  const std::string shmem = o.shmem_after_bytes ? format_bytes(*o.shmem_after_bytes) : "unknown";
  switch (b.kind) {
    case K::kNone:
      return;
    case K::kStarted:
      log_event(Level::warn, "reclaim_backoff",
                "reclaim of " + li.display + " freed only " + format_bytes(o.freed_bytes()) +
                    " of " + format_bytes(o.target_bytes) + " (cache " +
                    format_bytes(o.cache_after_bytes.value_or(0)) + " left, of which shmem " +
                    shmem +
                    "): its cache is probably shmem/tmpfs, which reclaim cannot free without "
                    "swap; backing off, next reclaim in " +
                    format_duration(b.wait) + " at the earliest, doubling up to " +
                    format_duration(config_.policy.cooldown * core::kMaxBackoffFactor) +
                    " while reclaims keep freeing under a tenth of their target",
                {{"cgroup", o.name},
                 {"pod_uid", li.labels.pod_uid},
                 {"container_id", li.labels.container_id},
                 {"freed_bytes", o.freed_bytes()},
                 {"target_bytes", o.target_bytes},
                 {"cache_after_bytes", optional_json(o.cache_after_bytes)},
                 {"shmem_bytes", optional_json(o.shmem_after_bytes)},
                 {"futile_streak", b.futile_streak},
                 {"backoff_seconds", seconds(b.wait)}});
      return;
    case K::kLonger:
      log_event(Level::debug, "reclaim_backoff_longer",
                "reclaim of " + li.display + " freed only " + format_bytes(o.freed_bytes()) +
                    " again (shmem " + shmem + "); next reclaim in " + format_duration(b.wait) +
                    " at the earliest",
                {{"cgroup", o.name},
                 {"freed_bytes", o.freed_bytes()},
                 {"futile_streak", b.futile_streak},
                 {"backoff_seconds", seconds(b.wait)}});
      return;
    case K::kEnded:
      log_event(Level::info, "reclaim_backoff_ended",
                "reclaim of " + li.display + " freed " + format_bytes(o.freed_bytes()) +
                    " again; back to the cooldown of " + format_duration(b.wait),
                {{"cgroup", o.name}, {"freed_bytes", o.freed_bytes()}});
      return;
  }
}

bool Daemon::wait_until(core::TimePoint deadline) {
  for (;;) {
    run_due_rechecks();
    const core::TimePoint now = clock_.now();
    if (deadline <= now) {
      return true;
    }
    core::TimePoint wake = deadline;
    for (const Recheck& r : rechecks_) {
      wake = std::min(wake, r.at);
    }
    if (events_) {
      wake = std::min(wake, events_->next_due());
    }
    // Registrations pending: look at signals and events without sleeping, then register one.
    if (!pending_.empty()) {
      wake = now;
    }
    // Compared before subtracting: a due time long past must not overflow the difference.
    auto ns =
        wake <= now ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now).count();
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    // A negative fd is ignored by poll: without notifications the third entry never fires.
    pollfd fds[3] = {{signals_.fd(), POLLIN, 0},
                     {pool_.wake_fd(), POLLIN, 0},
                     {events_ ? events_->fd() : -1, POLLIN, 0}};
    int n = ::ppoll(fds, 3, &ts, nullptr);
    if (n < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("poll failed: ") + std::strerror(errno));
    }
    if (n > 0 && (fds[1].revents & POLLIN)) {
      collect_finished();
    }
    if ((n > 0 && (fds[2].revents & POLLIN)) || (events_ && events_->next_due() <= clock_.now())) {
      handle_events();
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      if (auto sig = signals_.take()) {
        log_event(Level::info, "signal", std::string("received ") + strsignal(*sig));
        return false;
      }
    }
    register_one();
  }
}

void Daemon::watch_levels(const core::TickResult& r) {
  pending_.clear();
  for (size_t i = 0; i < samples_.size(); ++i) {
    const cgroup::LeafSample& s = samples_[i];
    const std::optional<uint64_t>& threshold = r.decisions[i].threshold_bytes;
    if (s.stats && threshold && !events_->renew(s.inode, *threshold, static_cast<uint32_t>(i))) {
      pending_.push_back({s.inode, *threshold, static_cast<uint32_t>(i)});
    }
  }
  events_->sweep();
  // Taken from the back: register in increasing inode order, which for new cgroups is mostly
  // the order they were created in, so each new watch lands at the end of a sorted table.
  std::sort(pending_.begin(), pending_.end(),
            [](const Pending& a, const Pending& b) { return a.inode > b.inode; });
}

bool Daemon::register_one() {
  if (pending_.empty()) {
    return false;
  }
  const Pending p = pending_.back();
  pending_.pop_back();
  if (pending_.empty()) {
    pending_.shrink_to_fit();  // a start-up's worth (24 bytes a leaf) is not needed again
  }
  if (p.index >= samples_.size() || samples_[p.index].inode != p.inode) {
    return true;
  }
  const cgroup::LeafSample& s = samples_[p.index];
  if (events_->size() >= watch_budget_) {
    // The other half of the descriptors belongs to the scanner, the reclaims and the listener.
    warn_unwatched(s, "the " + std::to_string(watch_budget_) +
                          " descriptors for watches (half of RLIMIT_NOFILE) are in use");
    pending_ = {};
    return true;
  }
  auto st = events_->watch(s.inode, p.threshold, p.index,
                           [this, &s] { return scanner_.leaf_dir().open(s.name, s.inode); });
  if (!st && !st.error().vanished()) {
    warn_unwatched(s, st.error().describe(s.name));
  }
  if (!st && (st.error().err == EMFILE || st.error().err == ENFILE)) {
    // Out of descriptors: the rest would fail the same way. The next scan tries once more.
    pending_ = {};
  }
  return true;
}

void Daemon::warn_unwatched(const cgroup::LeafSample& s, const std::string& why) {
  if (events_warned_) {
    return;
  }
  events_warned_ = true;
  log_event(Level::warn, "notify_unavailable",
            why +
                "; leaves that cannot be watched between scans are checked at each scan only "
                "(logged once)",
            {{"cgroup", s.name.view()}, {"error", why}});
}

void Daemon::remap_rechecks() {
  constexpr uint32_t kGone = UINT32_MAX;
  std::sort(rechecks_.begin(), rechecks_.end(),
            [](const Recheck& a, const Recheck& b) { return a.inode < b.inode; });
  for (Recheck& r : rechecks_) {
    r.index = kGone;
  }
  for (size_t i = 0; i < samples_.size(); ++i) {
    auto it = std::ranges::lower_bound(rechecks_, samples_[i].inode, {}, &Recheck::inode);
    if (it != rechecks_.end() && it->inode == samples_[i].inode) {
      it->index = static_cast<uint32_t>(i);
    }
  }
  std::erase_if(rechecks_, [](const Recheck& r) { return r.index == kGone; });
}

void Daemon::handle_events() {
  fired_.clear();
  events_->take(fired_, clock_.now());
  for (const cgroup::LevelWatch::Fired& f : fired_) {
    if (f.slot < samples_.size() && samples_[f.slot].inode == f.key) {
      check_leaf(f.slot);
    }
  }
}

void Daemon::run_due_rechecks() {
  const core::TimePoint now = clock_.now();
  for (size_t i = 0; i < rechecks_.size();) {
    if (rechecks_[i].at > now) {
      ++i;
      continue;
    }
    const Recheck due = rechecks_[i];
    rechecks_[i] = rechecks_.back();
    rechecks_.pop_back();
    if (due.index < samples_.size() && samples_[due.index].inode == due.inode) {
      check_leaf(due.index);
    }
  }
}

void Daemon::check_leaf(size_t index) {
  cgroup::LeafSample& s = samples_[index];
  auto dir = scanner_.leaf_dir().open(s.name, s.inode);
  if (!dir) {
    return;  // gone: the next scan says so
  }
  auto stats = cgroup::read_leaf_stats(dir->get(), parent_.version,
                                       s.stats ? s.stats->limit_bytes : std::nullopt, check_buf_);
  if (!stats) {
    return;
  }
  s.stats = *stats;
  const std::optional<core::Decision> d = tracker_.check(s, clock_.now());
  if (!d) {
    return;
  }
  if (d->action == core::Action::kReclaim) {
    dispatch(index, *d);
  } else if (d->reason == core::Reason::kBelowThreshold && events_) {
    // The usage crossed the level but the cache is still under the threshold: the rest of the
    // usage (anonymous and kernel memory, shmem when excluded) stands in between. Move the level
    // up by that much, so the next event comes when the cache itself gets there.
    if (auto usage = cgroup::read_usage(dir->get(), parent_.version, check_buf_)) {
      const uint64_t counted = core::counted_cache_bytes(*stats, config_.policy);
      const uint64_t other = *usage > counted ? *usage - counted : 0;
      const uint64_t level =
          *d->threshold_bytes + std::min(other, UINT64_MAX - *d->threshold_bytes);
      log_event(Level::debug, "notify_level",
                s.name.str() + ": usage " + format_bytes(*usage) +
                    " crossed its level with cache " + format_bytes(counted) + "; next level " +
                    format_bytes(level),
                {{"cgroup", s.name.view()},
                 {"usage_bytes", *usage},
                 {"cache_bytes", counted},
                 {"level_bytes", level}});
      events_->move_level(s.inode, level,
                          [this, &s] { return scanner_.leaf_dir().open(s.name, s.inode); });
    }
  } else if (d->retry_at) {
    // Over its level but held back: look again the moment the wait ends, not a whole interval
    // later. One pending look per leaf is enough.
    const bool pending = std::any_of(rechecks_.begin(), rechecks_.end(),
                                     [&](const Recheck& r) { return r.inode == s.inode; });
    if (!pending) {
      rechecks_.push_back({*d->retry_at, s.inode, static_cast<uint32_t>(index)});
    }
  }
}

int Daemon::finish_once() {
  // Wait for every reclaim of this pass, still answering SIGINT/SIGTERM.
  while (pool_.pending() > 0) {
    if (!wait_until(clock_.now() + std::chrono::milliseconds(200))) {
      pool_.stop();
      return 0;
    }
  }
  collect_finished();
  pool_.stop();
  telemetry_.stop();
  if (config_.output == Config::Output::kJson) {
    obs::print_json(std::cout, report_, config_.dry_run);
  } else {
    obs::print_table(std::cout, report_, config_.dry_run);
  }
  std::cout.flush();
  return 0;
}

}  // namespace cgmm::app
