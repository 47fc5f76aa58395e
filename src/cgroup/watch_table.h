#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace cgmm::cgroup {

// inotify watch descriptors to the scanner's nodes, as a vector sorted by descriptor: 16 bytes a
// watch instead of a hash node's 40. The kernel hands out descriptors in increasing order
// (cyclically), so adding one is an append; removing one leaves a hole, and holes are swept out
// once they are half the table, so removals stay cheap when many leaves go at once.
template <class T>
class WatchTable {
 public:
  T* find(int wd) const {
    auto it = lower(slots_, wd);
    return it != slots_.end() && it->first == wd ? it->second : nullptr;
  }

  void insert(int wd, T* value) {
    if (slots_.empty() || slots_.back().first < wd) {
      slots_.emplace_back(wd, value);
    } else if (auto it = lower(slots_, wd); it != slots_.end() && it->first == wd) {
      live_ -= it->second != nullptr ? 1 : 0;
      it->second = value;
    } else {
      slots_.insert(it, {wd, value});
    }
    ++live_;
  }

  void erase(int wd) {
    auto it = lower(slots_, wd);
    if (it == slots_.end() || it->first != wd || it->second == nullptr) {
      return;
    }
    it->second = nullptr;
    --live_;
    if (live_ < slots_.size() / 2) {
      std::erase_if(slots_, [](const Slot& s) { return s.second == nullptr; });
    }
  }

  size_t size() const { return live_; }

 private:
  using Slot = std::pair<int, T*>;
  template <class Slots>
  static auto lower(Slots& slots, int wd) {
    return std::lower_bound(slots.begin(), slots.end(), wd,
                            [](const Slot& s, int key) { return s.first < key; });
  }

  std::vector<Slot> slots_;
  size_t live_ = 0;
};

}  // namespace cgmm::cgroup
