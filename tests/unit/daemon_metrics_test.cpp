#include "obs/daemon_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace cgmm::obs {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

const LeafLabels kPodLeaf = {"/kubepods/burstable/podabc/0123", "abc", "0123", "burstable"};
const LeafLabels kPlainLeaf = {"/batch/job-7", "", "", ""};

LeafLabels labels_of(std::string_view cgroup) {
  return cgroup == kPodLeaf.cgroup ? kPodLeaf : LeafLabels{std::string(cgroup), "", "", ""};
}

constexpr auto kLeafLabelText =
    R"({cgroup="/kubepods/burstable/podabc/0123",pod_uid="abc",container_id="0123",qos="burstable"})";

TEST(DaemonMetrics, FreshRegistryShowsBuildInfoAndZeroCounters) {
  Registry registry;
  const DaemonMetrics metrics(registry, "1.2.3");
  const auto text = registry.render();
  EXPECT_THAT(text, HasSubstr("cgmm_build_info{version=\"1.2.3\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_scans_total 0\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaimed_bytes_total 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_cache_bytes{")));
}

TEST(DaemonMetrics, ScanAndReclaimAreCounted) {
  Registry registry;
  DaemonMetrics metrics(registry, "dev", labels_of);
  metrics.record_scan(3ms, 12);
  metrics.record_reclaim(kPodLeaf.cgroup, "ok", 1 << 20, 250ms,
                         std::chrono::system_clock::time_point(1700000000s));
  metrics.record_error("read");
  const auto text = registry.render();
  EXPECT_THAT(text, HasSubstr("cgmm_scans_total 1\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_leaves 12\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_scan_duration_seconds_count 1\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaims_total{result=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaimed_bytes_total 1048576\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaim_duration_seconds_bucket{le=\"0.25\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_errors_total{kind=\"read\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(std::string("cgmm_leaf_last_reclaim_timestamp_seconds") +
                              kLeafLabelText + " 1700000000\n"));
}

TEST(DaemonMetrics, LeafGaugesCarryPodLabels) {
  Registry registry;
  DaemonMetrics metrics(registry, "dev", labels_of);
  metrics.set_leaf(kPodLeaf.cgroup, 100, 1000, 500);
  const auto text = registry.render();
  EXPECT_THAT(text, HasSubstr(std::string("cgmm_leaf_cache_bytes") + kLeafLabelText + " 100\n"));
  EXPECT_THAT(text, HasSubstr(std::string("cgmm_leaf_limit_bytes") + kLeafLabelText + " 1000\n"));
  EXPECT_THAT(text,
              HasSubstr(std::string("cgmm_leaf_threshold_bytes") + kLeafLabelText + " 500\n"));
}

TEST(DaemonMetrics, UnlimitedLeafHasNoLimitSeries) {
  Registry registry;
  DaemonMetrics metrics(registry, "dev", labels_of);
  metrics.set_leaf(kPlainLeaf.cgroup, 100, 1000, 500);
  metrics.set_leaf(kPlainLeaf.cgroup, 100, std::nullopt, 500);
  EXPECT_THAT(registry.render(), Not(HasSubstr("cgmm_leaf_limit_bytes{")));
}

TEST(DaemonMetrics, VanishedLeavesDisappear) {
  Registry registry;
  DaemonMetrics metrics(registry, "dev", labels_of);
  metrics.set_leaf(kPodLeaf.cgroup, 1, 2, 3);
  metrics.set_leaf(kPlainLeaf.cgroup, 1, 2, 3);
  metrics.record_reclaim(kPlainLeaf.cgroup, "ok", 1, 1ms, std::chrono::system_clock::now());

  metrics.retain_leaves([](std::string_view cgroup) { return cgroup == kPodLeaf.cgroup; });
  auto text = registry.render();
  EXPECT_THAT(text, Not(HasSubstr(kPlainLeaf.cgroup)));
  EXPECT_THAT(text, HasSubstr(kPodLeaf.cgroup));

  metrics.forget_leaf(kPodLeaf.cgroup);
  text = registry.render();
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_")));
}

// Thousands of leaves, most of them gone again in two waves, each keeping its own values: what a
// node sees when pods are rescheduled en masse.
TEST(DaemonMetrics, ManyLeavesComeAndGoEachWithItsOwnValues) {
  Registry registry;
  DaemonMetrics metrics(registry, "dev");
  const auto leaf = [](int i) { return "/kubepods/pod" + std::to_string(i) + "/c"; };
  const auto line = [&](int i) {
    return "cgmm_leaf_cache_bytes{cgroup=\"" + leaf(i) +
           "\",pod_uid=\"\",container_id=\"\",qos=\"\"} " + std::to_string(i) + "\n";
  };
  constexpr int kLeaves = 3000;
  for (int i = 0; i < kLeaves; ++i) {
    metrics.set_leaf(leaf(i), static_cast<std::uint64_t>(i), std::nullopt, std::nullopt);
  }
  metrics.retain_leaves(
      [](std::string_view cgroup) { return cgroup.find('3') == std::string_view::npos; });
  for (int i = 0; i < kLeaves; i += 2) {
    metrics.forget_leaf(leaf(i));
  }
  for (int i = 0; i < kLeaves; i += 7) {
    metrics.set_leaf(leaf(i), static_cast<std::uint64_t>(i), std::nullopt, std::nullopt);
  }

  const std::string text = registry.render();
  for (int i = 0; i < kLeaves; ++i) {
    const bool kept = (i % 2 == 1 && leaf(i).find('3') == std::string::npos) || i % 7 == 0;
    EXPECT_EQ(text.find(line(i)) != std::string::npos, kept) << leaf(i);
  }
}

}  // namespace
}  // namespace cgmm::obs
