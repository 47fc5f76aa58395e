#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"
#include "app/reclaim_pool.h"
#include "app/signals.h"
#include "app/telemetry.h"
#include "cgroup/hierarchy.h"
#include "cgroup/leaf_scan.h"
#include "cgroup/level_watch.h"
#include "cgroup/usage_events.h"
#include "cgroup/usage_poll.h"
#include "core/clock.h"
#include "core/tracker.h"
#include "obs/metrics.h"
#include "obs/report.h"

namespace cgmm::app {

// The main loop: every interval, discover leaves -> read stats -> decide -> hand reclaims to the
// pool -> record (logs, metrics); between scans, sleep until the next one while collecting
// finished reclaims and watching for SIGINT/SIGTERM.
class Daemon {
 public:
  // `signals` must have been created before any thread, so that every thread has them blocked.
  // Throws UsageError when the configuration does not fit the hierarchy (--reclaim-target on v1)
  // and std::system_error when --listen cannot be bound.
  Daemon(const Config& config, cgroup::Parent parent, SignalFd& signals, const core::Clock& clock);

  // Runs until a stop signal (or after one pass with --once). Returns the exit code.
  int run();

 private:
  // How a leaf is named in logs, metrics and the report.
  struct LeafInfo {
    obs::LeafLabels labels;
    std::string display;  // "pod <uid> container <id>", or the cgroup path
  };

  void scan();
  void log_changes(const core::TickResult& r);
  void dispatch(size_t index, const core::Decision& decision);
  uint64_t reclaim_amount(const cgroup::MemoryStats& stats) const;
  void collect_finished();
  void log_backoff(const core::ReclaimOutcome& o, const LeafInfo& li, const core::BackoffChange& b);
  // Sleeps until `deadline`, handling finished reclaims. False when a stop signal arrived.
  bool wait_until(core::TimePoint deadline);
  int finish_once();
  // Notifications (v1 memory thresholds, v2 memory.current reads): keep each leaf's level
  // watched, check a leaf at once when its usage crosses it, and again when a cooldown that held
  // it back ends.
  void watch_levels(const core::TickResult& r);
  // Registers one pending leaf; false when none is left.
  bool register_one();
  void warn_unwatched(const cgroup::LeafSample& s, const std::string& why);
  // A rescan may move a leaf to another index: points each recheck at its leaf again.
  void remap_rechecks();
  void handle_events();
  void run_due_rechecks();
  void check_leaf(size_t index);
  // Derived from the name when needed: the daemon keeps nothing per leaf for naming.
  static LeafInfo info(std::string_view name);

  const Config& config_;
  cgroup::Parent parent_;
  SignalFd& signals_;
  const core::Clock& clock_;
  cgroup::LeafScanner scanner_;
  core::Tracker tracker_;
  ReclaimPool pool_;
  Telemetry telemetry_;
  // v2 kernels before 5.19 have no memory.reclaim: the daemon then only watches.
  bool can_reclaim_ = true;
  std::vector<cgroup::LeafSample> samples_;
  bool first_scan_ = true;
  std::vector<obs::ReportRow> report_;  // --once only

  struct Recheck {
    core::TimePoint at;
    uint64_t inode;
    uint32_t index;
  };
  std::unique_ptr<cgroup::LevelWatch> events_;  // null without notifications
  bool events_warned_ = false;
  // Descriptors the watches may hold (one each): half of RLIMIT_NOFILE, as the scanner leaves.
  size_t watch_budget_ = 0;
  std::vector<cgroup::LevelWatch::Fired> fired_;
  std::vector<Recheck> rechecks_;
  // Leaves to register, done between scans one at a time: on v1 each registration blocks for an
  // RCU grace period, and a thousand of them would stall a scan for seconds.
  struct Pending {
    uint64_t inode;
    uint64_t threshold;
    uint32_t index;
  };
  std::vector<Pending> pending_;
  std::string check_buf_;
};

}  // namespace cgmm::app
