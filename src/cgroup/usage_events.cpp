#include "cgroup/usage_events.h"

#include <fcntl.h>
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

UsageEvents::UsageEvents() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {}

std::vector<UsageEvents::Watch>::iterator UsageEvents::find(uint64_t key) {
  auto it = std::ranges::lower_bound(watches_, key, {}, &Watch::key);
  return it != watches_.end() && it->key == key ? it : watches_.end();
}

bool UsageEvents::renew(uint64_t key, uint64_t threshold, uint32_t slot) {
  auto it = find(key);
  if (it == watches_.end() || it->threshold != threshold) {
    return false;
  }
  it->set(slot, true);
  return true;
}

IoStatus UsageEvents::watch(uint64_t key, uint64_t threshold, uint32_t slot,
                            const OpenDir& open_dir) {
  if (renew(key, threshold, slot)) {
    return Ok{};
  }
  return arm(key, threshold, threshold, slot, open_dir);
}

IoStatus UsageEvents::move_level(uint64_t key, uint64_t level, const OpenDir& open_dir) {
  auto it = find(key);
  if (it == watches_.end() || it->level == level) {
    return Ok{};
  }
  return arm(key, it->threshold, level, it->slot(), open_dir);
}

IoStatus UsageEvents::arm(uint64_t key, uint64_t threshold, uint64_t level, uint32_t slot,
                          const OpenDir& open_dir) {
  if (auto old = find(key); old != watches_.end()) {
    watches_.erase(old);  // closing the eventfd ends the old registration
  }
  auto dir = open_dir();
  if (!dir) {
    return dir.error();
  }
  auto opened = open_file_at(dir->get(), files::kMemoryUsage);
  if (!opened) {
    return opened.error();
  }
  Fd usage = std::move(*opened);
  Watch w;
  w.key = key;
  w.event.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!w.event) {
    return IoError{errno, "create", "eventfd"};
  }
  const std::string line = std::to_string(w.event.get()) + " " + std::to_string(usage.get()) + " " +
                           std::to_string(level);
  if (auto st = write_file_at(dir->get(), files::kEventControl, line); !st) {
    return st.error();
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = key;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, w.event.get(), &ev) != 0) {
    return IoError{errno, "watch", "eventfd"};
  }
  // The kernel signals crossings from now on. A usage that went over the level between the
  // caller's last look and now would never be reported: report it ourselves.
  if (auto now = pread_usage(usage.get(), files::kMemoryUsage); now && *now > level) {
    [[maybe_unused]] int r = ::eventfd_write(w.event.get(), 1);
  }
  w.threshold = threshold;
  w.level = level;
  w.set(slot, true);
  watches_.insert(std::ranges::upper_bound(watches_, key, {}, &Watch::key), std::move(w));
  return Ok{};
}

void UsageEvents::sweep() {
  std::erase_if(watches_, [](const Watch& w) { return !w.renewed(); });
  for (Watch& w : watches_) {
    w.set(w.slot(), false);
  }
  if (watches_.capacity() > 2 * watches_.size() + 64) {
    watches_.shrink_to_fit();  // after many leaves went: give the memory back
  }
}

void UsageEvents::take(std::vector<Fired>& out, TimePoint /*now*/) {
  epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 64, 0);
    if (n <= 0) {
      return;
    }
    for (int i = 0; i < n; ++i) {
      // epoll_event is packed on x86-64: copy the key out rather than bind a misaligned reference.
      const uint64_t key = events[i].data.u64;
      auto it = find(key);
      if (it == watches_.end()) {
        continue;
      }
      uint64_t count;
      [[maybe_unused]] ssize_t r = ::read(it->event.get(), &count, sizeof count);
      out.push_back({it->key, it->slot()});
    }
    if (n < 64) {
      return;
    }
  }
}

}  // namespace cgmm::cgroup
