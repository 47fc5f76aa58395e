#pragma once

// Interim: the one watcher's interface over the two watch implementations.
#include <memory>

#include "cgroup/level_watch.h"
#include "cgroup/memory_stat.h"
#include "cgroup/usage_events.h"
#include "cgroup/usage_poll.h"

namespace cgmm::cgroup {

class UsageWatch {
 public:
  using TimePoint = LevelWatch::TimePoint;
  using OpenDir = LevelWatch::OpenDir;
  explicit UsageWatch(Version version) {
    if (version == Version::kV2) {
      impl_ = std::make_unique<UsagePoll>();
    } else if (auto v1 = std::make_unique<UsageEvents>(); v1->valid()) {
      impl_ = std::move(v1);
    }
  }
  bool valid() const { return impl_ != nullptr; }
  int fd() const { return impl_->fd(); }
  TimePoint next_due() const { return impl_->next_due(); }
  bool renew(uint64_t inode, uint64_t threshold) { return impl_->renew(inode, threshold, 0); }
  IoStatus watch(uint64_t inode, uint64_t threshold, const OpenDir& open_dir) {
    return impl_->watch(inode, threshold, 0, open_dir);
  }
  IoStatus move_level(uint64_t inode, uint64_t level, const OpenDir& open_dir) {
    return impl_->move_level(inode, level, open_dir);
  }
  void sweep() { impl_->sweep(); }
  void take(std::vector<uint64_t>& inodes, TimePoint now) {
    fired_.clear();
    impl_->take(fired_, now);
    for (auto& f : fired_) {
      inodes.push_back(f.key);
    }
  }
  size_t size() const { return impl_->size(); }

 private:
  std::unique_ptr<LevelWatch> impl_;
  std::vector<LevelWatch::Fired> fired_;
};

}  // namespace cgmm::cgroup
