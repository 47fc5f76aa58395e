#include "app/reclaim_pool.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "app/signals.h"
#include "cgroup/leaf_files.h"
#include "obs/events.h"

namespace cgmm::app {

using Result = core::ReclaimOutcome::Result;

ReclaimPool::ReclaimPool(size_t workers, cgroup::Version version)
    : reclaimer_(version), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!wake_) {
    throw std::runtime_error(std::string("failed to create eventfd: ") + std::strerror(errno));
  }
  install_interrupt_handler();
  for (size_t i = 0; i < workers; ++i) {
    auto w = std::make_unique<Worker>();
    Worker& ref = *w;
    w->thread = std::thread([this, &ref] { run(ref); });
    workers_.push_back(std::move(w));
  }
}

ReclaimPool::~ReclaimPool() {
  stop();
}

void ReclaimPool::submit(ReclaimJob job) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::vector<core::ReclaimOutcome> ReclaimPool::take_finished() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(wake_.get(), &count, sizeof count);
  std::lock_guard lock(mu_);
  return std::exchange(finished_, {});
}

size_t ReclaimPool::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + running_;
}

void ReclaimPool::run(Worker& self) {
  std::string buf;
  for (;;) {
    ReclaimJob job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) {
        break;
      }
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    core::ReclaimOutcome outcome = run_reclaim_job(job, reclaimer_, stopping_, buf, clock_);
    {
      std::lock_guard lock(mu_);
      --running_;
      finished_.push_back(std::move(outcome));
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
  }
  self.exited = true;
}

namespace {

// One reclaim write. A signal other than ours at shutdown cannot reach this thread (they are
// blocked), so EINTR outside shutdown is spurious: try again.
cgroup::IoResult<core::ReclaimResult> write_reclaim(cgroup::Reclaimer& reclaimer, int dir_fd,
                                                    uint64_t bytes,
                                                    const std::atomic<bool>& stopping) {
  auto status = reclaimer.reclaim(dir_fd, bytes);
  while (!status && status.error().err == EINTR && !stopping) {
    status = reclaimer.reclaim(dir_fd, bytes);
  }
  return status;
}

// v2: frees `job.target_bytes` as memory.current counts it, in steps (core::reclaim_step_bytes)
// with memory.current read after each, and stops at the goal, when the kernel frees no more, or,
// on a kernel without swappiness= (before 6.11), as soon as the leaf's anonymous memory shrinks or
// its swap grows: there the steps are the guard against swapping. Done when the goal was reached,
// partial when not. Fills in the outcome's steps, exact freed bytes and swap guard.
cgroup::IoResult<core::ReclaimResult> reclaim_in_steps(const ReclaimJob& job, int dir_fd,
                                                       cgroup::Reclaimer& reclaimer,
                                                       const std::atomic<bool>& stopping,
                                                       std::string& buf,
                                                       core::ReclaimOutcome& out) {
  constexpr auto kV2 = cgroup::Version::kV2;
  const auto before = cgroup::read_usage(dir_fd, kV2, buf);
  if (!before) {
    out.steps = 1;  // no counter to step by: the whole amount at once
    return write_reclaim(reclaimer, dir_fd, job.target_bytes, stopping);
  }
  const uint64_t goal = *before > job.target_bytes ? *before - job.target_bytes : 0;
  const auto base = cgroup::read_anon_and_swap(dir_fd, buf);
  uint64_t usage = *before;
  cgroup::IoResult<core::ReclaimResult> status = core::ReclaimResult::kDone;
  while (usage > goal && out.steps < core::kMaxReclaimSteps) {
    status = write_reclaim(reclaimer, dir_fd, core::reclaim_step_bytes(usage - goal), stopping);
    ++out.steps;
    if (!status) {
      break;
    }
    const auto now = cgroup::read_usage(dir_fd, kV2, buf);
    if (!now) {
      break;
    }
    const uint64_t previous = usage;
    usage = *now;
    if (*status == core::ReclaimResult::kPartial || usage >= previous) {
      break;  // the kernel found no more to free: more steps would not help
    }
    if (!reclaimer.swappiness_supported() && base) {
      const auto anon = cgroup::read_anon_and_swap(dir_fd, buf);
      if (anon && (anon->anon_bytes < base->anon_bytes || anon->swap_bytes > base->swap_bytes)) {
        out.swap_guard = true;
        break;
      }
    }
  }
  out.usage_freed_bytes = *before > usage ? *before - usage : 0;
  if (status) {
    status = usage <= goal ? core::ReclaimResult::kDone : core::ReclaimResult::kPartial;
  }
  return status;
}

}  // namespace

core::ReclaimOutcome run_reclaim_job(const ReclaimJob& job, cgroup::Reclaimer& reclaimer,
                                     const std::atomic<bool>& stopping, std::string& buf,
                                     const core::Clock& clock) {
  core::ReclaimOutcome out;
  out.name = job.name;
  out.inode = job.inode;
  out.context = job.context;
  out.cache_before_bytes = job.cache_before_bytes;
  out.target_bytes = job.target_bytes;

  const core::TimePoint start = clock.now();
  auto opened = job.dir.open(job.name, job.inode);
  if (!opened) {
    if (opened.error().vanished()) {
      out.result = Result::kVanished;
    } else {
      out.result = Result::kFailed;
      out.error = opened.error().describe(job.name);
    }
    return out;
  }
  const cgroup::Fd dir = std::move(*opened);
  const auto status = reclaimer.version() == cgroup::Version::kV1
                          ? write_reclaim(reclaimer, dir.get(), job.target_bytes, stopping)
                          : reclaim_in_steps(job, dir.get(), reclaimer, stopping, buf, out);
  out.took = std::chrono::duration_cast<core::Duration>(clock.now() - start);
  if (reclaimer.take_swappiness_fallback()) {
    obs::emit<obs::ReclaimSwappinessUnsupported>();
  }

  if (!status) {
    const cgroup::IoError& e = status.error();
    if (e.err == EINTR) {
      out.result = Result::kInterrupted;
    } else if (e.vanished()) {
      out.result = Result::kVanished;
    } else {
      out.result = Result::kFailed;
      out.error = e.describe(job.name);
    }
  } else {
    out.result = *status;
  }
  if (out.result == Result::kDone || out.result == Result::kPartial ||
      out.result == Result::kFailed) {
    auto after = cgroup::read_leaf_stats(dir.get(), reclaimer.version(), job.limit, buf);
    if (after) {
      out.cache_after_bytes = after->cache_bytes;
      out.shmem_after_bytes = after->shmem_bytes;
    }
  }
  return out;
}

void ReclaimPool::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_.exchange(true)) {
      return;
    }
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& w : workers_) {
    // The worker may be blocked in a reclaim write; the signal makes it return EINTR. It may also
    // arrive just before the write starts, so repeat until the worker is out.
    while (!w->exited) {
      pthread_kill(w->thread.native_handle(), kInterruptSignal);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    w->thread.join();
  }
}

}  // namespace cgmm::app
