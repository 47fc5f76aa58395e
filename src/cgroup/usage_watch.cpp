#include "cgroup/usage_watch.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "cgroup/files.h"
#include "cgroup/io.h"
#include "cgroup/leaf_files.h"

namespace cgmm::cgroup {

namespace {

// v2: reads due at nearly the same moment share one wake-up: a due time is rounded down to a
// grid, fine for leaves close to their level, coarse for the ones read once a second. Down, so
// that no read comes later than its leaf's headroom allows; the grid is never coarser than the
// period, so the read stays in the future.
UsageWatch::TimePoint on_grid(UsageWatch::TimePoint t, std::chrono::milliseconds period) {
  const std::chrono::nanoseconds grid = period >= std::chrono::milliseconds(500)
                                            ? std::chrono::milliseconds(250)
                                            : UsageWatch::kMinPeriod;
  return UsageWatch::TimePoint(t.time_since_epoch() / grid * grid);
}

}  // namespace

UsageWatch::UsageWatch(Version version) : version_(version) {
  if (version_ == Version::kV1) {
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  }
}

bool UsageWatch::valid() const {
  return version_ == Version::kV2 || epoll_.valid();
}

std::chrono::milliseconds UsageWatch::period(uint64_t headroom) {
  constexpr uint64_t kBytesPerMs = kFillRate / 1000;
  const uint64_t ms = headroom / kBytesPerMs;
  return std::clamp(std::chrono::milliseconds(std::min<uint64_t>(ms, kMaxPeriod.count())),
                    kMinPeriod, kMaxPeriod);
}

bool UsageWatch::renew(uint64_t inode, uint64_t threshold) {
  auto it = watches_.find(inode);
  if (it == watches_.end() || it->second.threshold != threshold) {
    return false;
  }
  it->second.renewed = true;
  return true;
}

IoStatus UsageWatch::watch(uint64_t inode, uint64_t threshold, const OpenDir& open_dir) {
  if (renew(inode, threshold)) {
    return Ok{};
  }
  return arm(inode, threshold, threshold, open_dir);
}

IoStatus UsageWatch::move_level(uint64_t inode, uint64_t level, const OpenDir& open_dir) {
  auto it = watches_.find(inode);
  if (it == watches_.end() || it->second.level == level) {
    return Ok{};
  }
  if (version_ == Version::kV1) {
    return arm(inode, it->second.threshold, level, open_dir);
  }
  it->second.level = level;
  it->second.armed = true;
  read_soon(it->second);
  return Ok{};
}

IoStatus UsageWatch::arm(uint64_t inode, uint64_t threshold, uint64_t level,
                         const OpenDir& open_dir) {
  if (version_ == Version::kV1) {
    watches_.erase(inode);  // closing the eventfd ends the old registration
  }
  auto dir = open_dir();
  if (!dir) {
    return dir.error();
  }
  auto fd = version_ == Version::kV1 ? register_threshold(inode, level, dir->get())
                                     : open_file_at(dir->get(), files::kMemoryCurrent);
  if (!fd) {
    return fd.error();
  }
  Watch& w = watches_[inode];
  w.threshold = threshold;
  w.level = level;
  w.fd = std::move(*fd);
  w.armed = true;
  w.renewed = true;
  read_soon(w);
  return Ok{};
}

IoResult<Fd> UsageWatch::register_threshold(uint64_t inode, uint64_t level, int dir_fd) {
  auto usage = open_file_at(dir_fd, files::kMemoryUsage);
  if (!usage) {
    return usage.error();
  }
  Fd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!event) {
    return IoError{errno, "create", "eventfd"};
  }
  const std::string line = std::to_string(event.get()) + " " + std::to_string(usage->get()) + " " +
                           std::to_string(level);
  if (auto st = write_file_at(dir_fd, files::kEventControl, line); !st) {
    return st.error();
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = inode;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, event.get(), &ev) != 0) {
    return IoError{errno, "watch", "eventfd"};
  }
  // The kernel signals crossings from now on. A usage that went over the level between the
  // caller's last look and now would never be reported: report it ourselves.
  if (auto now = pread_usage(usage->get(), files::kMemoryUsage); now && *now > level) {
    [[maybe_unused]] int r = ::eventfd_write(event.get(), 1);
  }
  return event;
}

void UsageWatch::sweep() {
  std::erase_if(watches_, [](const auto& entry) { return !entry.second.renewed; });
  if (watches_.bucket_count() > 2 * watches_.size() + 64) {
    watches_.rehash(0);  // after many leaves went: give the memory back
  }
  if (version_ == Version::kV2) {
    next_due_ = TimePoint::max();
  }
  for (auto& [inode, w] : watches_) {
    w.renewed = false;
    if (version_ == Version::kV2) {
      next_due_ = std::min(next_due_, w.due);
    }
  }
}

void UsageWatch::take(std::vector<uint64_t>& inodes, TimePoint now) {
  if (version_ == Version::kV2) {
    read_due(inodes, now);
    return;
  }
  epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 64, 0);
    if (n <= 0) {
      return;
    }
    for (int i = 0; i < n; ++i) {
      // epoll_event is packed on x86-64: copy the inode out rather than bind a misaligned
      // reference.
      const uint64_t inode = events[i].data.u64;
      auto it = watches_.find(inode);
      if (it == watches_.end()) {
        continue;
      }
      uint64_t count;
      [[maybe_unused]] ssize_t r = ::read(it->second.fd.get(), &count, sizeof count);
      inodes.push_back(inode);
    }
    if (n < 64) {
      return;
    }
  }
}

void UsageWatch::read_soon(Watch& w) {
  if (version_ == Version::kV2) {
    w.due = TimePoint{};  // read at the next take()
    next_due_ = TimePoint{};
  }
}

void UsageWatch::read_due(std::vector<uint64_t>& inodes, TimePoint now) {
  if (now < next_due_) {
    return;
  }
  next_due_ = TimePoint::max();
  for (auto& [inode, w] : watches_) {
    if (w.due <= now) {
      std::chrono::milliseconds pause = kMaxPeriod;
      const IoResult<uint64_t> usage = pread_usage(w.fd.get(), files::kMemoryCurrent);
      if (!usage && usage.error().vanished()) {
        // A removed cgroup answers ENODEV: leave it to the scan that drops it.
        w.due = TimePoint::max();
        continue;
      }
      if (usage && *usage > w.level) {
        // Over: reported once; read once a second until it is seen under again.
        if (w.armed) {
          inodes.push_back(inode);
          w.armed = false;
        }
      } else if (usage) {
        w.armed = true;
        pause = period(w.level - *usage);
      }
      w.due = on_grid(now + pause, pause);
    }
    next_due_ = std::min(next_due_, w.due);
  }
}

}  // namespace cgmm::cgroup
