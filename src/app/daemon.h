#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/reclaim_pool.h"
#include "app/signals.h"
#include "cgroup/hierarchy.h"
#include "cgroup/leaf_scan.h"
#include "core/clock.h"
#include "core/tracker.h"
#include "obs/report.h"

namespace cgmm::app {

// The main loop: every interval, discover leaves -> read stats -> decide -> hand reclaims to the
// pool -> log; between scans, sleep until the next one while collecting finished reclaims and
// watching for SIGINT/SIGTERM.
class Daemon {
 public:
  // `signals` must have been created before any thread, so that every thread has them blocked.
  Daemon(const Config& config, cgroup::Parent parent, SignalFd& signals, const core::Clock& clock);

  // Runs until a stop signal (or after one pass with --once). Returns the exit code.
  int run();

 private:
  void scan();
  void dispatch(size_t index, const core::Decision& decision);
  void collect_finished();
  // Sleeps until `deadline`, handling finished reclaims. False when a stop signal arrived.
  bool wait_until(core::TimePoint deadline);
  int finish_once();

  const Config& config_;
  cgroup::Parent parent_;
  SignalFd& signals_;
  const core::Clock& clock_;
  cgroup::LeafScanner scanner_;
  core::Tracker tracker_;
  ReclaimPool pool_;
  std::vector<cgroup::LeafSample> samples_;
  bool first_scan_ = true;
  std::vector<obs::ReportRow> report_;  // --once only
};

}  // namespace cgmm::app
