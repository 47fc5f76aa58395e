#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "cgroup/memory_stat.h"
#include "cgroup/result.h"
#include "core/reclaim_outcome.h"

namespace cgmm::cgroup {

// Asks the kernel to reclaim a cgroup's page cache. Thread-safe: reclaims of different cgroups
// run concurrently on the reclaim workers.
class Reclaimer {
 public:
  // What a fixture tree does in the kernel's place after each reclaim write: frees what was
  // asked in its files (tests/fs/daemon_loop_test.cpp). None against a real kernel.
  using FixtureKernel = std::function<void(int dir_fd, uint64_t bytes)>;

  explicit Reclaimer(Version version, FixtureKernel fixture = {})
      : version_(version), fixture_(std::move(fixture)) {}
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  // v1: writes "0" to memory.force_empty (reclaims all it can; `target_bytes` is ignored).
  // v2: writes "<target_bytes> swappiness=0" to memory.reclaim, so that only file pages are
  // reclaimed; kernels before 6.11 reject the argument with EINVAL, after which the plain amount is
  // written for the rest of the run. Blocks while the kernel reclaims; a signal interrupts it
  // with EINTR.
  // Answers kDone or kPartial (v2 EAGAIN: less than asked was reclaimed).
  IoResult<core::ReclaimResult> reclaim(int dir_fd, uint64_t target_bytes);

  Version version() const { return version_; }

  // False once a kernel has rejected "swappiness=" (v2).
  bool swappiness_supported() const { return swappiness_ok_.load(std::memory_order_relaxed); }

  // True exactly once, after the reclaim that found "swappiness=" rejected: to log it once.
  bool take_swappiness_fallback() { return fallback_news_.exchange(false); }

 private:
  IoResult<core::ReclaimResult> write(int dir_fd, uint64_t target_bytes);

  Version version_;
  FixtureKernel fixture_;
  std::atomic<bool> swappiness_ok_{true};
  std::atomic<bool> fallback_news_{false};
};

}  // namespace cgmm::cgroup
