#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cgroup/leaf_name.h"
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
  void update(const cgroup::LeafName& leaf, Update&& update) {
    const std::lock_guard lock(mutex_);
    auto it = rows_.find(leaf.view());
    if (it == rows_.end()) {
      Row row{leaf, {}};
      row.values.fill(kNone);
      it = rows_.emplace(row.name.view(), std::move(row)).first;  // the key views the row's name
    }
    std::forward<Update>(update)(it->second.values);
    if (std::ranges::all_of(it->second.values, [](double v) { return std::isnan(v); })) {
      rows_.erase(it);
    }
  }

  // Removes every leaf for which `gone(cgroup)` is true; returns how many went.
  std::size_t remove_if(const std::function<bool(std::string_view cgroup)>& gone) {
    const std::lock_guard lock(mutex_);
    return std::erase_if(rows_, [&](const auto& entry) { return gone(entry.first); });
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
      for (const auto& [cgroup, row] : rows_) {
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
    cgroup::LeafName name;
    Values values;
  };

  const std::array<Metric, N> metrics_;
  const LeafLabeler labeler_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string_view, Row> rows_;
};

}  // namespace cgmm::obs
