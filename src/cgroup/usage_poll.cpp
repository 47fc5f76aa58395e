#include "cgroup/usage_poll.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>

#include "cgroup/files.h"
#include "cgroup/io.h"
#include "cgroup/leaf_files.h"

namespace cgmm::cgroup {

namespace {

// Reads due at nearly the same moment share one wake-up: a due time is rounded down to a grid,
// fine for leaves close to their level, coarse for the ones read once a second. Down, so that no
// read comes later than its leaf's headroom allows; the grid is never coarser than the period,
// so the read stays in the future.
LevelWatch::TimePoint on_grid(LevelWatch::TimePoint t, std::chrono::milliseconds period) {
  const std::chrono::nanoseconds grid = period >= std::chrono::milliseconds(500)
                                            ? std::chrono::milliseconds(250)
                                            : UsagePoll::kMinPeriod;
  return LevelWatch::TimePoint(t.time_since_epoch() / grid * grid);
}

}  // namespace

std::chrono::milliseconds UsagePoll::period(uint64_t headroom) {
  constexpr uint64_t kBytesPerMs = kFillRate / 1000;
  const uint64_t ms = headroom / kBytesPerMs;
  return std::clamp(std::chrono::milliseconds(std::min<uint64_t>(ms, kMaxPeriod.count())),
                    kMinPeriod, kMaxPeriod);
}

UsagePoll::Watch* UsagePoll::find(uint64_t key) {
  auto it = std::ranges::lower_bound(watches_, key, {}, &Watch::key);
  return it != watches_.end() && it->key == key ? &*it : nullptr;
}

bool UsagePoll::renew(uint64_t key, uint64_t threshold, uint32_t slot) {
  Watch* w = find(key);
  if (w == nullptr || w->threshold != threshold) {
    return false;
  }
  w->renewed = true;
  w->slot = slot;
  return true;
}

IoStatus UsagePoll::watch(uint64_t key, uint64_t threshold, uint32_t slot,
                          const OpenDir& open_dir) {
  if (renew(key, threshold, slot)) {
    return Ok{};
  }
  auto dir = open_dir();
  if (!dir) {
    return dir.error();
  }
  auto opened = open_file_at(dir->get(), files::kMemoryCurrent);
  if (!opened) {
    return opened.error();
  }
  Fd current = std::move(*opened);
  Watch* w = find(key);
  if (w == nullptr) {
    // Inodes of new cgroups mostly grow: usually an append.
    w = &*watches_.insert(std::ranges::lower_bound(watches_, key, {}, &Watch::key), Watch{});
    w->key = key;
  }
  w->threshold = threshold;
  w->level = threshold;
  w->current = std::move(current);
  w->slot = slot;
  w->armed = true;
  w->renewed = true;
  w->due = TimePoint{};  // read at the next take()
  next_due_ = TimePoint{};
  return Ok{};
}

IoStatus UsagePoll::move_level(uint64_t key, uint64_t level, const OpenDir& /*open_dir*/) {
  Watch* w = find(key);
  if (w == nullptr || w->level == level) {
    return Ok{};
  }
  w->level = level;
  w->armed = true;
  w->due = TimePoint{};
  next_due_ = TimePoint{};
  return Ok{};
}

void UsagePoll::sweep() {
  std::erase_if(watches_, [](const Watch& w) { return !w.renewed; });
  if (watches_.capacity() > 2 * watches_.size() + 64) {
    watches_.shrink_to_fit();  // after many leaves went: give the memory back
  }
  next_due_ = TimePoint::max();
  for (Watch& w : watches_) {
    w.renewed = false;
    next_due_ = std::min(next_due_, w.due);
  }
}

void UsagePoll::take(std::vector<Fired>& out, TimePoint now) {
  if (now < next_due_) {
    return;
  }
  next_due_ = TimePoint::max();
  for (Watch& w : watches_) {
    if (w.due <= now) {
      std::chrono::milliseconds pause = kMaxPeriod;
      const IoResult<uint64_t> usage = pread_usage(w.current.get(), files::kMemoryCurrent);
      if (!usage && usage.error().vanished()) {
        // A removed cgroup answers ENODEV: leave it to the scan that drops it.
        w.due = TimePoint::max();
        continue;
      }
      if (usage && *usage > w.level) {
        // Over: reported once; read once a second until it is seen under again.
        if (w.armed) {
          out.push_back({w.key, w.slot});
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
