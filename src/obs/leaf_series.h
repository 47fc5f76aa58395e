#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "obs/metrics.h"

namespace cgmm::obs {

// Labels of the per-leaf series. pod_uid, container_id and qos are empty outside Kubernetes.
struct LeafLabels {
  std::string cgroup;
  std::string pod_uid;
  std::string container_id;
  std::string qos;
};

// Derives a leaf's labels from its cgroup name. Called while rendering, from the HTTP thread.
using LeafLabeler = std::function<LeafLabels(std::string_view cgroup)>;

// The gauges every leaf has, kept as one row per leaf: the leaf's shared name and a value per
// gauge. Labels are derived from the name when the page is rendered, so a leaf costs its row and
// no label strings between scrapes. Renders as one family per gauge, in the order given. Safe to
// use from any thread.
template <std::size_t N>
class LeafSeries final : public FamilyBase {
 public:
  struct Metric {
    std::string name;
    std::string help;
  };
  // NaN: the leaf has no series of that gauge.
  using Values = std::array<double, N>;
  static constexpr double kNone = NAN;

  LeafSeries(std::array<Metric, N> metrics, LeafLabeler labeler)
      : metrics_(std::move(metrics)), labeler_(std::move(labeler)) {}

  // Runs `update(values)` on the leaf's row (created with no series); a row left with no series
  // is removed.
  template <class Update>
  void update(std::string_view leaf, Update&& update) {
    const std::lock_guard lock(mutex_);
    std::size_t slot = find_slot(leaf);
    if (index_[slot] == kEmpty) {
      if (2 * (rows_.size() + 1) > index_.size()) {
        rehash(2 * index_.size());
        slot = find_slot(leaf);
      }
      index_[slot] = static_cast<std::uint32_t>(rows_.size());
      Row& row = rows_.emplace_back(Row{std::string(leaf), {}});
      row.values.fill(kNone);
    }
    Values& values = rows_[index_[slot]].values;
    std::forward<Update>(update)(values);
    if (std::ranges::all_of(values, [](double v) { return std::isnan(v); })) {
      erase_row(index_[slot]);
    }
  }

  // Removes every leaf for which `gone(cgroup)` is true; returns how many went.
  std::size_t remove_if(const std::function<bool(std::string_view cgroup)>& gone) {
    const std::lock_guard lock(mutex_);
    std::size_t removed = 0;
    for (std::size_t i = 0; i < rows_.size();) {
      if (gone(rows_[i].name)) {
        erase_row(i);  // the last row moves into i
        ++removed;
      } else {
        ++i;
      }
    }
    if (rows_.capacity() > 2 * rows_.size() + 64) {
      rows_.shrink_to_fit();  // after many leaves went: give the memory back
      rehash(kMinIndex);
    }
    return removed;
  }

  std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return rows_.size();
  }

  std::string_view name() const override { return metrics_[0].name; }

  void render(std::string& out) const override {
    static const std::array<std::string, 4> kLabelNames = {"cgroup", "pod_uid", "container_id",
                                                           "qos"};
    const std::lock_guard lock(mutex_);
    for (std::size_t g = 0; g < N; ++g) {
      bool header = false;
      for (const Row& row : rows_) {
        const std::string_view cgroup = row.name;
        if (std::isnan(row.values[g])) {
          continue;
        }
        if (!header) {
          detail::render_header(out, metrics_[g].name, metrics_[g].help, MetricType::kGauge);
          header = true;
        }
        const LeafLabels l =
            labeler_ ? labeler_(cgroup) : LeafLabels{std::string(cgroup), {}, {}, {}};
        const std::array<std::string, 4> values = {l.cgroup, l.pod_uid, l.container_id, l.qos};
        Gauge gauge;
        gauge.set(row.values[g]);
        detail::render_sample(out, metrics_[g].name, detail::render_labels(kLabelNames, values),
                              gauge);
      }
    }
  }

 private:
  struct Row {
    std::string name;
    Values values;
  };
  static constexpr std::uint32_t kEmpty = UINT32_MAX;
  static constexpr std::size_t kMinIndex = 16;

  // The index slot holding `name`'s row, or the empty slot where it would go (linear probing).
  std::size_t find_slot(std::string_view name) const {
    const std::size_t mask = index_.size() - 1;
    for (std::size_t s = std::hash<std::string_view>{}(name)&mask;; s = (s + 1) & mask) {
      if (index_[s] == kEmpty || rows_[index_[s]].name == name) {
        return s;
      }
    }
  }

  // An index of at least `size` slots (a power of two, over twice the rows) for the rows.
  void rehash(std::size_t size) {
    size = std::max(size, kMinIndex);
    while (size < 2 * rows_.size() + 2) {
      size *= 2;
    }
    index_.assign(size, kEmpty);
    index_.shrink_to_fit();
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      index_[find_slot(rows_[i].name)] = static_cast<std::uint32_t>(i);
    }
  }

  // Removes row `i`; the last row takes its place.
  void erase_row(std::size_t i) {
    const std::size_t mask = index_.size() - 1;
    std::size_t hole = find_slot(rows_[i].name);
    // Backward-shift deletion: move up every later entry of the probe run that may sit in the
    // hole, so lookups never stop early at it.
    for (std::size_t s = (hole + 1) & mask; index_[s] != kEmpty; s = (s + 1) & mask) {
      const std::size_t home = std::hash<std::string_view>{}(rows_[index_[s]].name) & mask;
      if (((s - home) & mask) >= ((s - hole) & mask)) {
        index_[hole] = index_[s];
        hole = s;
      }
    }
    index_[hole] = kEmpty;
    const std::size_t last = rows_.size() - 1;
    if (i != last) {
      index_[find_slot(rows_[last].name)] = static_cast<std::uint32_t>(i);
      rows_[i] = std::move(rows_[last]);
    }
    rows_.pop_back();
  }

  const std::array<Metric, N> metrics_;
  const LeafLabeler labeler_;
  mutable std::mutex mutex_;
  // One row per leaf, and an open-addressing index of row numbers by name: 40 bytes and two
  // 4-byte slots a leaf (a hash map node took 80 and its bucket 8).
  std::vector<Row> rows_;
  std::vector<std::uint32_t> index_ = std::vector<std::uint32_t>(kMinIndex, kEmpty);
};

}  // namespace cgmm::obs
