#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cgroup/fd.h"
#include "cgroup/leaf_dir.h"
#include "cgroup/memory_stat.h"
#include "cgroup/reclaim.h"
#include "core/clock.h"
#include "core/limit.h"
#include "core/reclaim_outcome.h"

namespace cgmm::app {

struct ReclaimJob {
  std::string name;
  uint64_t inode = 0;
  core::LeafContext context;  // handed on to the outcome
  // Opens the leaf's directory, checked to be this very incarnation (name and inode).
  cgroup::LeafDir dir;
  uint64_t cache_before_bytes = 0;
  uint64_t target_bytes = 0;  // see ReclaimOutcome::target_bytes
  core::Limit limit;          // v2: the effective limit, for reading stats after
};

// Runs reclaim jobs and hands back how they ended. The caller guarantees at most one job per
// cgroup at a time. Finished outcomes are collected with take_finished(); wake_fd() becomes
// readable when there are some.
class ReclaimRunner {
 public:
  virtual ~ReclaimRunner() = default;
  virtual void submit(ReclaimJob job) = 0;
  virtual std::vector<core::ReclaimOutcome> take_finished() = 0;
  virtual int wake_fd() const = 0;
  // Jobs queued or running.
  virtual size_t pending() const = 0;
  // Drops queued jobs and ends running ones.
  virtual void stop() = 0;
};

// One job from start to end: reopens the leaf (checked to be the same incarnation), writes its
// reclaim file (an EINTR is tried again unless `stopping`), and reads its cache back. `clock`
// times it.
core::ReclaimOutcome run_reclaim_job(const ReclaimJob& job, cgroup::Reclaimer& reclaimer,
                                     const std::atomic<bool>& stopping, std::string& buf,
                                     const core::Clock& clock);

// Runs reclaims off the scan thread on a few workers, so a slow reclaim (force_empty can block for
// many seconds) never delays the scan of the other cgroups.
class ReclaimPool final : public ReclaimRunner {
 public:
  ReclaimPool(size_t workers, cgroup::Version version);
  ~ReclaimPool() override;
  ReclaimPool(const ReclaimPool&) = delete;
  ReclaimPool& operator=(const ReclaimPool&) = delete;

  void submit(ReclaimJob job) override;
  std::vector<core::ReclaimOutcome> take_finished() override;
  int wake_fd() const override { return wake_.get(); }
  size_t pending() const override;

  // Drops queued jobs, interrupts running ones and joins the workers. Returns promptly even when
  // a reclaim write is blocked in the kernel.
  void stop() override;

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> exited{false};
  };

  void run(Worker& self);

  cgroup::Reclaimer reclaimer_;
  const core::SteadyClock clock_;
  cgroup::Fd wake_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ReclaimJob> queue_;
  std::vector<core::ReclaimOutcome> finished_;
  size_t running_ = 0;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace cgmm::app
