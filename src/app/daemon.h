#pragma once

#include <memory>
#include <optional>

#include "app/config.h"
#include "app/kubelet_names.h"
#include "app/leaf_watch.h"
#include "app/loop.h"
#include "app/once_report.h"
#include "app/policy_watch.h"
#include "app/reclaim_pool.h"
#include "app/reclaims.h"
#include "app/scan_pass.h"
#include "app/signals.h"
#include "app/telemetry.h"
#include "cgroup/hierarchy.h"
#include "cgroup/leaf_scan.h"
#include "core/clock.h"
#include "core/tracker.h"

namespace cgmm::app {

// The daemon: the parts of one loop, wired together. Every interval the scan discovers the
// leaves, reads and decides them and hands reclaims to the runner; between scans the loop
// collects finished reclaims, serves the watch (notifications) and waits for SIGINT/SIGTERM.
class Daemon {
 public:
  // `signals` must have been created before any thread, so that every thread has them blocked.
  // Throws UsageError when the configuration does not fit the hierarchy (--reclaim-target on v1),
  // the policy file is bad or --listen cannot be bound.
  Daemon(const Config& config, cgroup::Parent parent, SignalFd& signals, const core::Clock& clock,
         Waiter& waiter, ReclaimRunner& runner);

  // Runs until a stop signal (or after one pass with --once). Returns the exit code.
  int run();

 private:
  // SIGINT, SIGTERM: logged, and the loop stops. SIGHUP: the policy is read again.
  class Signals final : public Part {
   public:
    Signals(SignalFd& signals, Loop& loop, PolicyWatch* policy)
        : signals_(signals), loop_(loop), policy_(policy) {}
    int fd() const override { return signals_.fd(); }
    void run(core::TimePoint now, bool ready) override;

   private:
    SignalFd& signals_;
    Loop& loop_;
    PolicyWatch* policy_;  // null without --policy
  };
  // --once: stops the loop once every reclaim of the pass has ended.
  class OnceDone final : public Part {
   public:
    OnceDone(Reclaims& reclaims, Loop& loop) : reclaims_(reclaims), loop_(loop) {}
    core::TimePoint due() const override;
    void run(core::TimePoint now, bool ready) override;

   private:
    Reclaims& reclaims_;
    Loop& loop_;
  };

  int run_once();

  const Config& config_;
  cgroup::Parent parent_;
  ReclaimRunner& runner_;
  // Probed once: a v2 kernel before 5.19 has no memory.reclaim anywhere.
  const bool can_reclaim_;
  cgroup::LeafScanner scanner_;
  core::Tracker tracker_;
  Telemetry telemetry_;
  std::unique_ptr<KubeletNames> names_;  // null when neither log tree is to be read
  std::unique_ptr<PolicyWatch> policy_;  // null without --policy
  std::optional<OnceReport> report_;
  Reclaims reclaims_;
  std::unique_ptr<LeafWatch> watch_;  // null without notifications
  ScanPass scan_;
  Loop loop_;
  Signals signals_;
};

}  // namespace cgmm::app
