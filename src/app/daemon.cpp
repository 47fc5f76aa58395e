#include "app/daemon.h"

#include <poll.h>

#include <algorithm>
#include <csignal>
#include <iostream>

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

std::string threshold_text(const core::Policy& policy) {
  return policy.threshold.is_percent() ? policy.threshold.to_string() + " of each cgroup's limit"
                                       : policy.threshold.to_string();
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

}  // namespace

Daemon::Daemon(const Config& config, cgroup::Parent parent, SignalFd& signals,
               const core::Clock& clock)
    : config_(config),
      parent_(std::move(parent)),
      signals_(signals),
      clock_(clock),
      scanner_(parent_),
      tracker_(config.policy, config.dry_run),
      pool_(kReclaimWorkers, parent_.version) {}

int Daemon::run() {
  log_event(Level::info, "start",
            "starting: parent " + parent_.path + " (cgroup " + version_name(parent_.version) +
                "), threshold " + threshold_text(config_.policy) + ", interval " +
                format_duration(config_.interval) + ", cooldown " +
                format_duration(config_.policy.cooldown) + (config_.dry_run ? ", dry run" : "") +
                (config_.once ? ", one pass" : ""),
            {{"parent", parent_.path},
             {"cgroup_version", version_name(parent_.version)},
             {"threshold", config_.policy.threshold.to_string()},
             {"interval_seconds", seconds(config_.interval)},
             {"cooldown_seconds", seconds(config_.policy.cooldown)},
             {"dry_run", config_.dry_run},
             {"version", CGMM_VERSION}});

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
  return 0;
}

void Daemon::scan() {
  scanner_.scan(samples_);
  const core::TickResult r = tracker_.observe(samples_, clock_.now());

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
      log_event(Level::info, "cgroup_appeared",
                "cgroup " + s.name + " appeared" +
                    (s.stats ? " (cache " + format_bytes(s.stats->cache_bytes) + ", limit " +
                                   limit_text(s.stats->limit_bytes) + ")"
                             : ""),
                {{"cgroup", s.name}});
    }
  }
  for (const std::string& name : r.vanished) {
    log_event(Level::info, "cgroup_vanished", "cgroup " + name + " disappeared",
              {{"cgroup", name}});
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

  if (config_.once) {
    report_.clear();
  }
  for (size_t i = 0; i < samples_.size(); ++i) {
    const core::Decision& d = r.decisions[i];
    if (d.action == core::Action::kReclaim) {
      dispatch(i, d);
    } else if (samples_[i].stats && obs::log_enabled(Level::trace)) {
      log_event(Level::trace, "decision",
                samples_[i].name + ": " + core::to_string(d.reason) + " (cache " +
                    format_bytes(samples_[i].stats->cache_bytes) + ")",
                {{"cgroup", samples_[i].name}, {"reason", core::to_string(d.reason)}});
    }
    if (config_.once) {
      const cgroup::LeafSample& s = samples_[i];
      report_.push_back({s.name, s.stats, s.error ? s.error->describe(s.name) : "", d, {}});
    }
  }
}

void Daemon::dispatch(size_t index, const core::Decision& decision) {
  cgroup::LeafSample& s = samples_[index];
  const uint64_t cache = s.stats->cache_bytes;
  const std::string over = "cache " + format_bytes(cache) + " over threshold " +
                           format_bytes(*decision.threshold_bytes) + " (limit " +
                           limit_text(s.stats->limit_bytes) + ")";
  std::initializer_list<obs::Field> fields = {{"cgroup", s.name},
                                              {"cache_bytes", cache},
                                              {"threshold_bytes", *decision.threshold_bytes},
                                              {"limit_bytes", optional_json(s.stats->limit_bytes)}};
  if (config_.dry_run) {
    log_event(Level::info, "reclaim_skipped_dry_run", "would reclaim " + s.name + ": " + over,
              fields);
    return;
  }
  log_event(Level::debug, "reclaim_start", "reclaiming " + s.name + ": " + over, fields);
  pool_.submit(ReclaimJob{s.name, s.inode, std::move(s.dir), cache, cache, s.stats->limit_bytes});
}

void Daemon::collect_finished() {
  for (core::ReclaimOutcome& o : pool_.take_finished()) {
    tracker_.reclaim_finished(o.name, o.inode);
    using R = core::ReclaimOutcome::Result;
    switch (o.result) {
      case R::kDone:
      case R::kPartial:
        log_event(Level::info, "reclaim",
                  "reclaimed " + o.name + ": cache " + format_bytes(o.cache_before_bytes) + " -> " +
                      (o.cache_after_bytes ? format_bytes(*o.cache_after_bytes) : "unknown") +
                      ", freed " + format_bytes(o.freed_bytes()) + " in " +
                      format_duration(o.took) +
                      (o.result == R::kPartial ? " (less than asked)" : ""),
                  {{"cgroup", o.name},
                   {"result", core::to_string(o.result)},
                   {"cache_bytes", o.cache_before_bytes},
                   {"cache_after_bytes", optional_json(o.cache_after_bytes)},
                   {"freed_bytes", o.freed_bytes()},
                   {"duration_seconds", seconds(o.took)}});
        break;
      case R::kFailed:
        log_event(Level::warn, "reclaim_failed", o.error + ", trying again after the cooldown",
                  {{"cgroup", o.name}, {"error", o.error}, {"duration_seconds", seconds(o.took)}});
        break;
      case R::kVanished:
        log_event(Level::debug, "reclaim_vanished",
                  "cgroup " + o.name + " disappeared during its reclaim", {{"cgroup", o.name}});
        break;
      case R::kInterrupted:
        log_event(Level::info, "reclaim_interrupted", "reclaim of " + o.name + " interrupted",
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

bool Daemon::wait_until(core::TimePoint deadline) {
  for (;;) {
    auto left = deadline - clock_.now();
    if (left <= core::TimePoint::duration::zero()) {
      return true;
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    pollfd fds[2] = {{signals_.fd(), POLLIN, 0}, {pool_.wake_fd(), POLLIN, 0}};
    int n = ::ppoll(fds, 2, &ts, nullptr);
    if (n < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("poll failed: ") + std::strerror(errno));
    }
    if (n > 0 && (fds[1].revents & POLLIN)) {
      collect_finished();
    }
    if (n > 0 && (fds[0].revents & POLLIN)) {
      if (auto sig = signals_.take()) {
        log_event(Level::info, "signal", std::string("received ") + strsignal(*sig));
        return false;
      }
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
  obs::print_table(std::cout, report_, config_.dry_run);
  std::cout.flush();
  return 0;
}

}  // namespace cgmm::app
