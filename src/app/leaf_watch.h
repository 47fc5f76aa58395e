#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "app/loop.h"
#include "app/reclaims.h"
#include "cgroup/hierarchy.h"
#include "cgroup/leaf_dir.h"
#include "cgroup/usage_watch.h"
#include "core/clock.h"
#include "core/decide.h"
#include "core/leaf_sample.h"
#include "core/tracker.h"

namespace cgmm::app {

// The watch between scans (notifications): keeps each leaf that has a threshold watched at a
// level (kernel memory thresholds on v1, paced memory.current reads on v2), checks a leaf the
// moment its usage crosses its level, and again the moment a cooldown that held it back ends.
// Leaves are known by inode, looked up in the Tracker. A loop part.
class LeafWatch final : public Part {
 public:
  // `budget`: the descriptors the watches may hold, one each.
  LeafWatch(const cgroup::Parent& parent, const cgroup::LeafDir& leaf_dir, core::Tracker& tracker,
            Reclaims& reclaims, size_t budget);

  // False when the kernel gave no way to watch (v1 without epoll): the scans do it all.
  bool valid() const { return watch_.valid(); }

  // After each scan: keeps the leaves with a threshold watched, queues the others for
  // registration (made between scans one at a time: on v1 each one blocks for an RCU grace
  // period, and a thousand of them would stall a scan for seconds), ends every other watch.
  void renew(std::span<const core::LeafSample> leaves, std::span<const core::Decision> decisions);

  int fd() const override { return watch_.fd(); }
  core::TimePoint due() const override;
  void run(core::TimePoint now, bool ready) override;

 private:
  struct Pending {
    uint64_t inode;
    uint64_t threshold;
  };
  struct Recheck {
    core::TimePoint at;
    uint64_t inode;
  };

  void check(uint64_t inode, core::TimePoint now);
  // The usage crossed the level but the cache is still under the threshold: the rest of the
  // usage (anonymous and kernel memory, shmem when excluded) stands in between. Moves the level
  // up by that much, so the next report comes when the cache itself gets there.
  void move_level(const core::LeafSample& leaf, int dir_fd, uint64_t threshold);
  void register_one();
  void warn_unwatched(std::string_view cgroup, const std::string& why);
  // Called while `name` is alive: within the watch call it is given to.
  cgroup::UsageWatch::OpenDir opener(std::string_view name, uint64_t inode) const;

  const cgroup::Parent& parent_;
  const cgroup::LeafDir& leaf_dir_;
  core::Tracker& tracker_;
  Reclaims& reclaims_;
  size_t budget_;
  cgroup::UsageWatch watch_;
  bool warned_ = false;
  std::vector<Pending> pending_;  // taken from the back
  std::vector<Recheck> rechecks_;
  std::vector<uint64_t> fired_;
  std::string buf_;
};

}  // namespace cgmm::app
