#include "app/daemon.h"

#include <csignal>
#include <iostream>
#include <system_error>

#include "cgroup/fd_budget.h"
#include "cgroup/files.h"
#include "cgroup/io.h"
#include "obs/events.h"

namespace cgmm::app {

namespace {

bool watching(const Config& config) {
  return config.notifications && !config.once;
}

cgroup::LeafScanOptions scan_options(const Config& config) {
  cgroup::LeafScanOptions options;
  options.read_usage = config.listen.has_value();  // for the working set on /metrics
  if (watching(config)) {
    // Each watched leaf holds a descriptor (an eventfd on v1, memory.current on v2).
    options.fd_budget = cgroup::split_fd_limit(true).scanner;
  }
  return options;
}

// A v2 kernel before 5.19 has no memory.reclaim anywhere.
bool can_reclaim(const cgroup::Parent& parent) {
  return parent.version == cgroup::Version::kV1 ||
         cgroup::exists_at(parent.fd.get(), cgroup::files::kMemoryReclaim);
}

// Null without notifications, or when the kernel gave no way to watch: the scans do it all.
std::unique_ptr<LeafWatch> make_watch(const Config& config, const cgroup::Parent& parent,
                                      const cgroup::LeafDir& leaf_dir, core::Tracker& tracker,
                                      Reclaims& reclaims) {
  if (!watching(config)) {
    return nullptr;
  }
  auto watch = std::make_unique<LeafWatch>(parent, leaf_dir, tracker, reclaims,
                                           cgroup::split_fd_limit(true).watches);
  return watch->valid() ? std::move(watch) : nullptr;
}

std::unique_ptr<KubeletNames> make_names(const Config& config) {
  if (config.pod_logs_dir.empty() && config.container_logs_dir.empty()) {
    return nullptr;
  }
  return std::make_unique<KubeletNames>(config.pod_logs_dir, config.container_logs_dir);
}

std::unique_ptr<PolicyWatch> make_policy(const Config& config, cgroup::Version version,
                                         obs::Metrics* metrics, const core::Clock& clock) {
  if (config.policy_file.empty()) {
    return nullptr;
  }
  return std::make_unique<PolicyWatch>(config.policy_file, config.policy, version, metrics, clock);
}

const char* version_name(cgroup::Version v) {
  return v == cgroup::Version::kV1 ? "v1" : "v2";
}

}  // namespace

Daemon::Daemon(const Config& config, cgroup::Parent parent, SignalFd& signals,
               const core::Clock& clock, Waiter& waiter, ReclaimRunner& runner)
    : config_(config),
      parent_(std::move(parent)),
      runner_(runner),
      can_reclaim_(can_reclaim(parent_)),
      scanner_(parent_, scan_options(config)),
      tracker_(config.policy, config.dry_run),
      telemetry_(config.listen, config.interval, clock),
      names_(make_names(config)),
      policy_(make_policy(config, parent_.version, telemetry_.metrics(), clock)),
      report_(config.once ? std::optional<OnceReport>(std::in_place) : std::nullopt),
      reclaims_(config, can_reclaim_, scanner_.leaf_dir(), tracker_, runner, telemetry_.metrics(),
                report_ ? &*report_ : nullptr, clock),
      watch_(make_watch(config, parent_, scanner_.leaf_dir(), tracker_, reclaims_)),
      scan_(config, parent_, scanner_, {names_.get(), policy_.get()}, tracker_, reclaims_,
            watch_.get(), telemetry_, report_ ? &*report_ : nullptr, clock),
      loop_(clock, waiter),
      signals_(signals, loop_, policy_.get()) {
  if (config_.policy.reclaim_target && parent_.version == cgroup::Version::kV1) {
    throw UsageError(
        "--reclaim-target needs cgroup v2 (memory.reclaim); on cgroup v1 "
        "memory.force_empty always reclaims all it can");
  }
  try {
    telemetry_.start();
  } catch (const std::system_error& e) {
    // The --listen address cannot be bound: only a change of configuration can fix that.
    throw UsageError(e.what());
  }
}

int Daemon::run() {
  obs::emit<obs::Start>(parent_.path, version_name(parent_.version), config_.policy,
                        config_.interval, config_.dry_run, config_.once,
                        config_.listen ? config_.listen->to_string() : "", watch_ != nullptr);
  if (!can_reclaim_) {
    obs::emit<obs::ReclaimUnavailable>();
  }
  if (names_) {
    for (const std::string& message : names_->unavailable()) {
      obs::emit<obs::NamesUnavailable>(message);
    }
  }
  if (config_.once) {
    return run_once();
  }
  // Finished reclaims, the watch, new names, a changed policy and a stop signal come before a
  // scan due at the same moment: the scan then sees reclaims as ended and decides by what is
  // current, and a stop does not wait for a scan.
  loop_.add(reclaims_);
  if (watch_) {
    loop_.add(*watch_);
  }
  if (names_) {
    loop_.add(*names_);
  }
  if (policy_) {
    loop_.add(*policy_);
  }
  loop_.add(signals_);
  loop_.add(scan_);
  loop_.run();
  obs::emit<obs::Stop>();
  runner_.stop();
  telemetry_.stop();
  return 0;
}

int Daemon::run_once() {
  scan_.scan();
  // Waits for every reclaim of the pass, still answering SIGINT/SIGTERM.
  OnceDone done(reclaims_, loop_);
  loop_.add(reclaims_);
  loop_.add(done);
  loop_.add(signals_);
  loop_.run();
  const bool interrupted = reclaims_.pending() > 0;  // by a signal: no report
  runner_.stop();
  if (interrupted) {
    return 0;
  }
  telemetry_.stop();
  report_->print(std::cout, config_.output, config_.dry_run);
  return 0;
}

void Daemon::Signals::run(core::TimePoint /*now*/, bool /*ready*/) {
  while (auto sig = signals_.take()) {
    obs::emit<obs::SignalReceived>(*sig);
    if (*sig != SIGHUP) {
      loop_.stop();
      return;
    }
    if (policy_) {
      policy_->reload();
    } else {
      obs::emit<obs::NothingToReload>();
    }
  }
}

core::TimePoint Daemon::OnceDone::due() const {
  return reclaims_.pending() == 0 ? core::TimePoint{} : core::TimePoint::max();
}

void Daemon::OnceDone::run(core::TimePoint /*now*/, bool /*ready*/) {
  reclaims_.collect();
  loop_.stop();
}

}  // namespace cgmm::app
