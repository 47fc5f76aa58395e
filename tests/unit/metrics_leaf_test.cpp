// The per-leaf series of /metrics: what each scan publishes, what a finished reclaim changes at
// once, and that vanished leaves leave no trace.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "obs/metrics.h"

namespace cgmm::obs {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;
using R = core::ReclaimOutcome::Result;

const LeafLabels kPodLeaf = {"/kubepods/burstable/podabc/0123", "abc", "0123", "burstable"};
const LeafLabels kPlainLeaf = {"/batch/job-7", "", "", ""};
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

LeafLabels labels_of(std::string_view cgroup) {
  return cgroup == kPodLeaf.cgroup ? kPodLeaf : LeafLabels{std::string(cgroup), "", "", ""};
}

constexpr auto kPodLabels =
    R"({cgroup="/kubepods/burstable/podabc/0123",namespace="",pod="",container="",pod_uid="abc",container_id="0123",qos="burstable",rule=""})";
// The limit gauge adds which limit it is.
const std::string kPodLimitLabels =
    std::string(kPodLabels).insert(std::string_view(kPodLabels).size() - 1, R"(,limit_kind="max")");
constexpr auto kPlainLabels =
    R"({cgroup="/batch/job-7",namespace="",pod="",container="",pod_uid="",container_id="",qos="",rule=""})";

// `labels` with one more label of the family's own.
std::string with(std::string_view labels, std::string_view extra) {
  return std::string(labels).insert(labels.size() - 1, "," + std::string(extra));
}

std::string line(std::string_view family, std::string_view labels, std::string_view value) {
  return std::string(family) + std::string(labels) + " " + std::string(value) + "\n";
}

core::ReclaimOutcome reclaim(std::string_view cgroup, std::uint64_t inode,
                             std::optional<std::uint64_t> cache_after_bytes) {
  core::ReclaimOutcome o;
  o.name = cgroup;
  o.inode = inode;
  o.cache_before_bytes = 150 * kMiB;
  o.cache_after_bytes = cache_after_bytes;
  o.took = 20ms;
  return o;
}

const std::chrono::system_clock::time_point kAt(1700000000s);

void scan(Metrics& metrics, std::vector<LeafGauges> leaves) {
  metrics.publish_scan(1ms, {}, leaves);
}

TEST(MetricsLeaf, GaugesCarryTheLabelsOfTheLabeler) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 1, 100, 1000, 500, nullptr}});
  const auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr("# HELP cgmm_leaf_cache_bytes Page cache charged to the leaf "
                              "cgroup.\n# TYPE cgmm_leaf_cache_bytes gauge\n" +
                              line("cgmm_leaf_cache_bytes", kPodLabels, "100")));
  EXPECT_THAT(text, HasSubstr("# HELP cgmm_leaf_limit_bytes Effective memory limit of the leaf "
                              "cgroup; limit_kind: max (the hard limit) or high (v2 memory.high)."
                              "\n# TYPE cgmm_leaf_limit_bytes gauge\n" +
                              line("cgmm_leaf_limit_bytes", kPodLimitLabels, "1000")));
  EXPECT_THAT(text, HasSubstr("# HELP cgmm_leaf_threshold_bytes Page cache above which the leaf "
                              "is reclaimed.\n# TYPE cgmm_leaf_threshold_bytes gauge\n" +
                              line("cgmm_leaf_threshold_bytes", kPodLabels, "500")));
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_last_reclaim_timestamp_seconds")));
}

// v2's memory.high below memory.max: the limit's series says so, and a change of kind is seen.
TEST(MetricsLeaf, TheLimitSaysWhichLimitItIs) {
  Metrics metrics("dev", labels_of);
  scan(metrics,
       {{kPlainLeaf.cgroup, 2, 100, 200 * kMiB, 100 * kMiB, nullptr, core::LimitKind::kHigh}});
  const std::string high_labels =
      std::string(kPlainLabels)
          .insert(std::string_view(kPlainLabels).size() - 1, R"(,limit_kind="high")");
  auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_limit_bytes", high_labels, "209715200")));
  // The other per-leaf series do not carry it.
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPlainLabels, "100")));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_threshold_bytes", kPlainLabels, "104857600")));
  scan(metrics, {{kPlainLeaf.cgroup, 2, 100, 150 * kMiB, 75 * kMiB, nullptr}});
  text = metrics.render();
  EXPECT_THAT(text, Not(HasSubstr("limit_kind=\"high\"")));
  EXPECT_THAT(text, HasSubstr("limit_kind=\"max\"} 157286400\n"));
}

TEST(MetricsLeaf, WithoutALabelerOnlyTheCgroupLabelIsSet) {
  Metrics metrics("dev");
  scan(metrics, {{kPodLeaf.cgroup, 1, 100, {}, {}, nullptr}});
  EXPECT_THAT(metrics.render(),
              HasSubstr(line("cgmm_leaf_cache_bytes",
                             R"({cgroup="/kubepods/burstable/podabc/0123",namespace="",pod="",container="",pod_uid="",)"
                             R"(container_id="",qos="",rule=""})",
                             "100")));
}

// Labels are derived when the page is rendered, so a scan costs no label strings.
TEST(MetricsLeaf, LabelsAreDerivedAtEachScrapeNotAtEachScan) {
  int calls = 0;
  Metrics metrics("dev", [&calls](std::string_view cgroup) {
    ++calls;
    return labels_of(cgroup);
  });
  for (int i = 0; i < 3; ++i) {
    scan(metrics, {{kPodLeaf.cgroup, 1, 100, {}, {}, nullptr}, {kPlainLeaf.cgroup, 2, 5, {}, {}, nullptr}});
    scan(metrics, {{kPodLeaf.cgroup, 1, 100, {}, {}, nullptr}, {kPlainLeaf.cgroup, 2, 5, {}, {}, nullptr}});
    (void)metrics.render();
    metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 0), {}, kAt);
  }
  EXPECT_EQ(calls, 2 * 3);  // two leaves, three renders
}

TEST(MetricsLeaf, ALeafWithoutLimitOrThresholdHasNoSuchSeries) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPlainLeaf.cgroup, 2, 100, 1000, 500, nullptr}});
  scan(metrics, {{kPlainLeaf.cgroup, 2, 100, std::nullopt, std::nullopt, nullptr}});
  const auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPlainLabels, "100")));
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_limit_bytes")));
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_threshold_bytes")));
}

// A leaf whose memory.stat could not be read is still a leaf: counted, with the gauges of its
// last reading and its last reclaim; a leaf never read has no gauges.
TEST(MetricsLeaf, AnUnreadLeafIsCountedAndKeepsItsLastReadingAndReclaim) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 1, 100, 1000, 500, nullptr}});
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 0), {}, kAt);
  scan(metrics,
       {{kPodLeaf.cgroup, 1, {}, {}, {}, nullptr}, {kPlainLeaf.cgroup, 2, {}, {}, {}, nullptr}});
  auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr("cgmm_leaves 2\n"));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "0")));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_limit_bytes", kPodLimitLabels, "1000")));
  EXPECT_THAT(text, Not(HasSubstr(kPlainLeaf.cgroup)));
  EXPECT_THAT(
      text, HasSubstr(line("cgmm_leaf_last_reclaim_timestamp_seconds", kPodLabels, "1700000000")));
  scan(metrics, {{kPodLeaf.cgroup, 1, 7, 1000, 500, nullptr}});
  EXPECT_THAT(metrics.render(), HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "7")));
}

// The kubelet's working set, beside the cache: the scan's reading, kept while the leaf cannot be
// read, and no series when the usage could not be read.
TEST(MetricsLeaf, TheWorkingSetIsTheScansAndHasNoSeriesWithoutAUsage) {
  Metrics metrics("dev", labels_of);
  LeafGauges pod{kPodLeaf.cgroup, 1, 100 * kMiB, 1000 * kMiB, 500 * kMiB, nullptr};
  pod.working_set_bytes = 60 * kMiB;
  scan(metrics, {pod, {kPlainLeaf.cgroup, 2, 5, {}, {}, nullptr}});
  auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr("# HELP cgmm_leaf_working_set_bytes Working set of the leaf cgroup "
                              "as the kubelet counts it for eviction: its memory usage less its "
                              "inactive page cache, at least 0 (v1: memory.usage_in_bytes less "
                              "total_inactive_file; v2: memory.current less inactive_file).\n"
                              "# TYPE cgmm_leaf_working_set_bytes gauge\n" +
                              line("cgmm_leaf_working_set_bytes", kPodLabels, "62914560")));
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_working_set_bytes{cgroup=\"/batch")));

  // A reclaim sets the cache at once; the working set waits for the next scan.
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 0), {}, kAt);
  EXPECT_THAT(metrics.render(),
              HasSubstr(line("cgmm_leaf_working_set_bytes", kPodLabels, "62914560")));
  scan(metrics, {{kPodLeaf.cgroup, 1, {}, {}, {}, nullptr}});
  EXPECT_THAT(metrics.render(),
              HasSubstr(line("cgmm_leaf_working_set_bytes", kPodLabels, "62914560")));
  scan(metrics, {{kPodLeaf.cgroup, 1, 100, 1000, 500, nullptr}});
  EXPECT_THAT(metrics.render(), Not(HasSubstr("cgmm_leaf_working_set_bytes")));
}

// Every leaf read has a streak, 0 out of backoff; the reason tells futile reclaims (shmem) from
// harmful ones (a hot cache), and a series per leaf is all it ever takes.
TEST(MetricsLeaf, EveryReadLeafHasABackoffStreakWithItsReason) {
  Metrics metrics("dev", labels_of);
  LeafGauges hot{kPodLeaf.cgroup, 1, 100, 1000, 500, nullptr};
  hot.backoff_streak = 2;
  hot.hot_cache = true;
  LeafGauges futile{kPlainLeaf.cgroup, 2, 100, 1000, 500, nullptr};
  futile.backoff_streak = 4;
  scan(metrics, {hot, futile, {"/batch/unread", 3, {}, {}, {}, nullptr}});
  auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr("# HELP cgmm_leaf_backoff_streak Reclaims in a row of the leaf "
                              "that were futile (freed under a tenth of their target) or harmful "
                              "(reason hot_cache: half of what they freed was read back within a "
                              "cooldown), 4 at most; each doubles the wait for the next reclaim. "
                              "0 out of backoff.\n"
                              "# TYPE cgmm_leaf_backoff_streak gauge\n"));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_backoff_streak",
                                   with(kPodLabels, R"(reason="hot_cache")"), "2")));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_backoff_streak",
                                   with(kPlainLabels, R"(reason="futile")"), "4")));
  EXPECT_THAT(text, Not(HasSubstr("/batch/unread")));

  scan(metrics, {{kPodLeaf.cgroup, 1, 100, 1000, 500, nullptr}});
  text = metrics.render();
  EXPECT_THAT(text,
              HasSubstr(line("cgmm_leaf_backoff_streak", with(kPodLabels, R"(reason="")"), "0")));
  EXPECT_THAT(text, Not(HasSubstr(R"(reason="hot_cache")")));
  EXPECT_THAT(text, Not(HasSubstr(kPlainLeaf.cgroup)));
}

// As with the cache, the page need not wait for the next scan to show what a reclaim or the
// judgment of its refaults did to the backoff.
TEST(MetricsLeaf, AReclaimOrARefaultJudgmentSetsTheStreakAtOnce) {
  using K = core::BackoffChange::Kind;
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 1, 100, 1000, 500, nullptr}});
  const core::BackoffChange futile{K::kStarted, 1, false, 60s};
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 90), futile, kAt);
  EXPECT_THAT(metrics.render(), HasSubstr(line("cgmm_leaf_backoff_streak",
                                               with(kPodLabels, R"(reason="futile")"), "1")));

  core::RefaultNews news;
  news.name = kPodLeaf.cgroup;
  news.inode = 1;
  news.judged = core::RefaultNews::Judgment{
      true, 100 * kMiB, 80 * kMiB, 5s, 115s, core::BackoffChange{K::kStarted, 2, true, 120s}};
  metrics.record_refaults(news);
  auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_backoff_streak",
                                   with(kPodLabels, R"(reason="hot_cache")"), "2")));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_refault_ratio", kPodLabels, "0.8")));

  news.judged->harmful = false;
  news.judged->change = core::BackoffChange{K::kEnded, 0, false, 30s};
  metrics.record_refaults(news);
  EXPECT_THAT(metrics.render(),
              HasSubstr(line("cgmm_leaf_backoff_streak", with(kPodLabels, R"(reason="")"), "0")));
  // Another incarnation's reclaim changes nothing.
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 7, 90), futile, kAt);
  EXPECT_THAT(metrics.render(),
              HasSubstr(line("cgmm_leaf_backoff_streak", with(kPodLabels, R"(reason="")"), "0")));
}

TEST(MetricsLeaf, VanishedLeavesLoseEverySeriesAndTheRestKeepTheirLastReclaim) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 1, 1, 2, 3, nullptr}, {kPlainLeaf.cgroup, 2, 1, 2, 3, nullptr}});
  metrics.record_reclaim(reclaim(kPlainLeaf.cgroup, 2, 0), {}, kAt);
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 0), {}, kAt + 1s);

  scan(metrics, {{kPodLeaf.cgroup, 1, 4, 2, 3, nullptr}});
  auto text = metrics.render();
  EXPECT_THAT(text, Not(HasSubstr(kPlainLeaf.cgroup)));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "4")));
  EXPECT_THAT(
      text, HasSubstr(line("cgmm_leaf_last_reclaim_timestamp_seconds", kPodLabels, "1700000001")));

  scan(metrics, {});
  text = metrics.render();
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_")));
  EXPECT_THAT(text, HasSubstr("cgmm_leaves 0\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaims_total{result=\"done\"} 2\n"));  // counters stay
}

// A cgroup removed and created again under its name between two scans is another cgroup.
TEST(MetricsLeaf, ACgroupCreatedAgainUnderItsNameStartsAfresh) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 1, 100, 1000, 500, nullptr}});
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 0), {}, kAt);
  scan(metrics, {{kPodLeaf.cgroup, 9, 3, 1000, 500, nullptr}});
  const auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "3")));
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_last_reclaim_timestamp_seconds")));
  // One that cannot be read shows nothing of the one before it.
  scan(metrics, {{kPodLeaf.cgroup, 10, {}, {}, {}, nullptr}});
  EXPECT_THAT(metrics.render(), Not(HasSubstr("cgmm_leaf_")));
}

// What the issue was about: the page showed the cache from before the reclaim until the next
// scan, 150 MiB while memory.stat said 0.
TEST(MetricsLeaf, AFinishedReclaimSetsItsLeafsCacheAtOnce) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 1, 150 * kMiB, 200 * kMiB, 50 * kMiB, nullptr},
                 {kPlainLeaf.cgroup, 2, 9, {}, {}, nullptr}});
  ASSERT_THAT(metrics.render(), HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "157286400")));

  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 0), {}, kAt);
  auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "0")));
  EXPECT_THAT(
      text, HasSubstr(line("cgmm_leaf_last_reclaim_timestamp_seconds", kPodLabels, "1700000000")));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_limit_bytes", kPodLimitLabels, "209715200")));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_threshold_bytes", kPodLabels, "52428800")));
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPlainLabels, "9")));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaimed_bytes_total 157286400\n"));

  // The next scan's reading wins again.
  scan(metrics, {{kPodLeaf.cgroup, 1, 2 * kMiB, 200 * kMiB, 50 * kMiB, nullptr}});
  EXPECT_THAT(metrics.render(), HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "2097152")));
}

TEST(MetricsLeaf, AReclaimThatCouldNotReadTheCacheAfterLeavesTheGauge) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 1, 150 * kMiB, {}, {}, nullptr}});
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, std::nullopt), {}, kAt);
  const auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "157286400")));
  EXPECT_THAT(
      text, HasSubstr(line("cgmm_leaf_last_reclaim_timestamp_seconds", kPodLabels, "1700000000")));
}

TEST(MetricsLeaf, AReclaimOfAVanishedLeafBringsNoSeriesBack) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 1, 150 * kMiB, {}, {}, nullptr}, {kPlainLeaf.cgroup, 2, 9, {}, {}, nullptr}});
  scan(metrics, {{kPlainLeaf.cgroup, 2, 9, {}, {}, nullptr}});
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 0), {}, kAt);
  metrics.record_reclaim(reclaim("/never/seen", 5, 0), {}, kAt);
  const auto text = metrics.render();
  EXPECT_THAT(text, Not(HasSubstr(kPodLeaf.cgroup)));
  EXPECT_THAT(text, Not(HasSubstr("/never/seen")));
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_last_reclaim_timestamp_seconds")));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaims_total{result=\"done\"} 2\n"));
}

// A reclaim that outlived its cgroup, which was created again under the same name meanwhile.
TEST(MetricsLeaf, ALateReclaimOfAnOldIncarnationLeavesTheNewOneAlone) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{kPodLeaf.cgroup, 9, 40 * kMiB, {}, {}, nullptr}});
  metrics.record_reclaim(reclaim(kPodLeaf.cgroup, 1, 0), {}, kAt);
  const auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr(line("cgmm_leaf_cache_bytes", kPodLabels, "41943040")));
  EXPECT_THAT(text, Not(HasSubstr("cgmm_leaf_last_reclaim_timestamp_seconds")));
}

TEST(MetricsLeaf, SeriesAreSortedByCgroupAndTheirLabelsEscaped) {
  Metrics metrics("dev", labels_of);
  scan(metrics, {{"/b", 1, 2048, {}, {}, nullptr}, {"/a\"q\\\n", 2, 1, {}, {}}, {"/a", 3, 0, {}, {}, nullptr}});
  EXPECT_THAT(metrics.render(),
              HasSubstr("# TYPE cgmm_leaf_cache_bytes gauge\n"
                        "cgmm_leaf_cache_bytes{cgroup=\"/a\",namespace=\"\",pod=\"\",container=\"\",pod_uid=\"\",container_id=\"\","
                        "qos=\"\",rule=\"\"} 0\n"
                        "cgmm_leaf_cache_bytes{cgroup=\"/a\\\"q\\\\\\n\",namespace=\"\",pod=\"\",container=\"\",pod_uid=\"\",container_id="
                        "\"\",qos=\"\",rule=\"\"} 1\n"
                        "cgmm_leaf_cache_bytes{cgroup=\"/b\",namespace=\"\",pod=\"\",container=\"\",pod_uid=\"\",container_id=\"\","
                        "qos=\"\",rule=\"\"} 2048\n"));
}

// Thousands of leaves, most of them gone again in two waves and some back as new cgroups, each
// with its own values: what a node sees when pods are rescheduled en masse.
TEST(MetricsLeaf, ManyLeavesComeAndGoEachWithItsOwnValues) {
  Metrics metrics("dev");
  constexpr int kLeaves = 3000;
  std::vector<std::string> names;  // the gauges view the scan's names, as a scan's do
  for (int i = 0; i < kLeaves; ++i) {
    names.push_back("/kubepods/pod" + std::to_string(i) + "/c");
  }
  const auto leaf = [&](int i) -> const std::string& { return names[static_cast<size_t>(i)]; };
  const auto sample = [&](int i) {
    return "cgmm_leaf_cache_bytes{cgroup=\"" + leaf(i) +
           "\",namespace=\"\",pod=\"\",container=\"\",pod_uid=\"\",container_id=\"\",qos=\"\",rule=\"\"} " + std::to_string(i) + "\n";
  };
  const auto gauges = [&](int i, std::uint64_t inode) {
    return LeafGauges{leaf(i), inode, static_cast<std::uint64_t>(i), {}, {}, nullptr};
  };
  std::vector<LeafGauges> all;
  all.reserve(kLeaves);
  for (int i = 0; i < kLeaves; ++i) {
    all.push_back(gauges(i, static_cast<std::uint64_t>(i)));
  }
  metrics.publish_scan(1ms, {}, all);
  std::erase_if(all,
                [&](const LeafGauges& g) { return g.cgroup.find('3') != std::string_view::npos; });
  metrics.publish_scan(1ms, {}, all);
  std::erase_if(all, [](const LeafGauges& g) { return g.inode % 2 == 0; });
  for (int i = 0; i < kLeaves; i += 7) {
    if (i % 2 == 0 || leaf(i).find('3') != std::string::npos) {
      all.push_back(gauges(i, static_cast<std::uint64_t>(kLeaves) + static_cast<std::uint64_t>(i)));
    }
  }
  metrics.publish_scan(1ms, {}, all);

  const std::string text = metrics.render();
  EXPECT_THAT(text, HasSubstr("cgmm_leaves " + std::to_string(all.size()) + "\n"));
  for (int i = 0; i < kLeaves; ++i) {
    const bool kept = (i % 2 == 1 && leaf(i).find('3') == std::string::npos) || i % 7 == 0;
    EXPECT_EQ(text.find(sample(i)) != std::string::npos, kept) << leaf(i);
  }
}

}  // namespace
}  // namespace cgmm::obs
