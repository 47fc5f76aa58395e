#pragma once

#include <atomic>
#include <cstdint>

#include "cgroup/memory_stat.h"
#include "cgroup/result.h"
#include "core/reclaim_outcome.h"

namespace cgmm::cgroup {

// Asks the kernel to reclaim a cgroup's page cache. Thread-safe: reclaims of different cgroups
// run concurrently on the reclaim workers.
class Reclaimer {
 public:
  explicit Reclaimer(Version version) : version_(version) {}
  virtual ~Reclaimer() = default;
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  // v1: writes "0" to memory.force_empty (reclaims all it can; `target_bytes` is ignored).
  // v2: writes "<target_bytes> swappiness=0" to memory.reclaim, so that only file pages are
  // reclaimed; kernels before 6.11 reject the argument with EINVAL, after which the plain amount is
  // written for the rest of the run. Blocks while the kernel reclaims; a signal interrupts it
  // with EINTR.
  // Answers kDone or kPartial (v2 EAGAIN: less than asked was reclaimed).
  // Virtual so that a fixture tree can play the kernel's part (tests/fs/daemon_loop_test.cpp).
  virtual IoResult<core::ReclaimResult> reclaim(int dir_fd, uint64_t target_bytes);

  Version version() const { return version_; }

  // False once a kernel has rejected "swappiness=" (v2).
  bool swappiness_supported() const { return swappiness_ok_.load(std::memory_order_relaxed); }

  // True exactly once, after the reclaim that found "swappiness=" rejected: to log it once.
  bool take_swappiness_fallback() { return fallback_news_.exchange(false); }

 private:
  Version version_;
  std::atomic<bool> swappiness_ok_{true};
  std::atomic<bool> fallback_news_{false};
};

}  // namespace cgmm::cgroup
