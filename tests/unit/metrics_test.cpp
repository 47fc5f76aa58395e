// The page /metrics serves: value formatting, escaping, the families in their order, counters
// and histograms. The per-leaf series are in metrics_leaf_test.cpp.
#include "obs/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace cgmm::obs {
namespace {

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;
using R = core::ReclaimOutcome::Result;

core::ReclaimOutcome reclaim(std::string_view cgroup, R result, std::uint64_t freed_bytes,
                             core::Duration took) {
  core::ReclaimOutcome o;
  o.name = cgroup;
  o.result = result;
  o.cache_before_bytes = freed_bytes;
  o.cache_after_bytes = 0;
  o.took = took;
  return o;
}

const std::chrono::system_clock::time_point kAt(1700000000s);

TEST(MetricsFormat, ValuesParseBackExactly) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-1.5), "-1.5");
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(1764403200), "1764403200");
  EXPECT_EQ(format_value(1764403200.25), "1764403200.25");
  EXPECT_EQ(format_value(1e20), "1e+20");
  EXPECT_EQ(format_value(1e-7), "1e-07");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  // The v1 "unlimited" value survives the trip through a double.
  EXPECT_EQ(std::stod(format_value(9223372036854771712.0)), 9223372036854771712.0);
}

TEST(MetricsFormat, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(escape_label_value(R"(a\b"c)"
                               "\nd"),
            R"(a\\b\"c\nd)");
  EXPECT_EQ(escape_label_value("/sys/fs/cgroup/memory/x"), "/sys/fs/cgroup/memory/x");
}

TEST(MetricsFormat, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(escape_help("a\\b\"c\nd"), R"(a\\b"c\nd)");
}

// Every family, in the order of the page; those with labels but no series yet (reclaims,
// errors, the per-leaf gauges) are left out, HELP and TYPE included.
TEST(MetricsPage, FreshPageHasEveryUnlabelledFamilyAtZeroAndTheBuild) {
  const Metrics metrics("1.2.3");
  EXPECT_EQ(metrics.render(),
            "# HELP cgmm_scans_total Scans of the leaf cgroups completed.\n"
            "# TYPE cgmm_scans_total counter\n"
            "cgmm_scans_total 0\n"
            "# HELP cgmm_scan_duration_seconds Time to discover and read all leaf cgroups.\n"
            "# TYPE cgmm_scan_duration_seconds histogram\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.0005\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.001\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.0025\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.005\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.01\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.025\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.05\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.1\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.25\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"0.5\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"1\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"2.5\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"5\"} 0\n"
            "cgmm_scan_duration_seconds_bucket{le=\"+Inf\"} 0\n"
            "cgmm_scan_duration_seconds_sum 0\n"
            "cgmm_scan_duration_seconds_count 0\n"
            "# HELP cgmm_last_scan_timestamp_seconds When the last scan finished, in seconds "
            "since the Unix epoch; 0 before the first.\n"
            "# TYPE cgmm_last_scan_timestamp_seconds gauge\n"
            "cgmm_last_scan_timestamp_seconds 0\n"
            "# HELP cgmm_leaves Leaf cgroups seen by the last scan.\n"
            "# TYPE cgmm_leaves gauge\n"
            "cgmm_leaves 0\n"
            "# HELP cgmm_reclaimed_bytes_total Bytes freed by reclaims.\n"
            "# TYPE cgmm_reclaimed_bytes_total counter\n"
            "cgmm_reclaimed_bytes_total 0\n"
            "# HELP cgmm_reclaim_refaulted_bytes_total Bytes of what reclaims freed that their "
            "leaves read back before their next reclaim.\n"
            "# TYPE cgmm_reclaim_refaulted_bytes_total counter\n"
            "cgmm_reclaim_refaulted_bytes_total 0\n"
            "# HELP cgmm_reclaim_duration_seconds Time the kernel took to answer a reclaim write.\n"
            "# TYPE cgmm_reclaim_duration_seconds histogram\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"0.001\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"0.01\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"0.05\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"0.1\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"0.25\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"0.5\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"1\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"2.5\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"5\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"10\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"30\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"60\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"120\"} 0\n"
            "cgmm_reclaim_duration_seconds_bucket{le=\"+Inf\"} 0\n"
            "cgmm_reclaim_duration_seconds_sum 0\n"
            "cgmm_reclaim_duration_seconds_count 0\n"
            "# HELP cgmm_build_info Build of the running daemon; the value is always 1.\n"
            "# TYPE cgmm_build_info gauge\n"
            "cgmm_build_info{version=\"1.2.3\"} 1\n");
}

TEST(MetricsPage, ScansReclaimsAndErrorsAreCounted) {
  Metrics metrics("dev");
  const std::vector<LeafGauges> leaves(12, LeafGauges{});
  metrics.publish_scan(3ms, {}, {});
  metrics.publish_scan(4ms, {}, leaves);
  metrics.record_reclaim(reclaim("/a", R::kDone, 1 << 20, 250ms), {}, kAt);
  metrics.record_reclaim(reclaim("/b", R::kPartial, 1 << 20, 1s), {}, kAt);
  metrics.record_reclaim(reclaim("/a", R::kDone, 0, 1ms), {}, kAt);
  metrics.record_error("read_stats");
  const auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr("cgmm_scans_total 2\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_leaves 12\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_scan_duration_seconds_count 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE cgmm_reclaims_total counter\n"
                              "cgmm_reclaims_total{result=\"done\"} 2\n"
                              "cgmm_reclaims_total{result=\"partial\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaimed_bytes_total 2097152\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaim_duration_seconds_bucket{le=\"0.25\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaim_duration_seconds_count 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE cgmm_errors_total counter\n"
                              "cgmm_errors_total{kind=\"read_stats\"} 1\n"));
}

// What an alert on stalled scans needs: when the last one ended, against the interval.
TEST(MetricsPage, TheLastScanIsStampedAndTheIntervalShown) {
  Metrics metrics("dev", {}, 1500ms);
  auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr("cgmm_last_scan_timestamp_seconds 0\n"));
  EXPECT_THAT(text, HasSubstr("# HELP cgmm_scan_interval_seconds Time from the start of one scan "
                              "to the next (--interval).\n"
                              "# TYPE cgmm_scan_interval_seconds gauge\n"
                              "cgmm_scan_interval_seconds 1.5\n"));
  metrics.publish_scan(3ms, kAt, {});
  metrics.publish_scan(3ms, kAt + 10250ms, {});
  text = metrics.render();
  EXPECT_THAT(text, HasSubstr("cgmm_last_scan_timestamp_seconds 1700000010.25\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_scan_interval_seconds 1.5\n"));
}

TEST(MetricsPage, HistogramBucketsAreCumulativeAndInclusive) {
  Metrics metrics("dev");
  metrics.publish_scan(0.5ms, {}, {});  // on a bound: counted in it
  metrics.publish_scan(0.75ms, {}, {});
  metrics.publish_scan(40ms, {}, {});
  metrics.publish_scan(7s, {}, {});  // past the last bound: only in +Inf
  EXPECT_THAT(metrics.render(), HasSubstr("cgmm_scan_duration_seconds_bucket{le=\"0.0005\"} 1\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.001\"} 2\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.0025\"} 2\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.005\"} 2\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.01\"} 2\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.025\"} 2\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.05\"} 3\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.1\"} 3\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.25\"} 3\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"0.5\"} 3\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"1\"} 3\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"2.5\"} 3\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"5\"} 3\n"
                                          "cgmm_scan_duration_seconds_bucket{le=\"+Inf\"} 4\n"
                                          "cgmm_scan_duration_seconds_sum 7.04125\n"
                                          "cgmm_scan_duration_seconds_count 4\n"));
}

TEST(MetricsPage, ReclaimDurationsOfMinutesFallInTheirBuckets) {
  Metrics metrics("dev");
  metrics.record_reclaim(reclaim("/a", R::kDone, 0, 20ms), {}, kAt);
  metrics.record_reclaim(reclaim("/a", R::kDone, 0, 1500ms), {}, kAt);
  metrics.record_reclaim(reclaim("/a", R::kFailed, 0, 200s), {}, kAt);
  EXPECT_THAT(metrics.render(), HasSubstr("cgmm_reclaim_duration_seconds_bucket{le=\"0.01\"} 0\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"0.05\"} 1\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"0.1\"} 1\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"0.25\"} 1\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"0.5\"} 1\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"1\"} 1\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"2.5\"} 2\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"5\"} 2\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"10\"} 2\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"30\"} 2\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"60\"} 2\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"120\"} 2\n"
                                          "cgmm_reclaim_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                                          "cgmm_reclaim_duration_seconds_sum 201.52\n"
                                          "cgmm_reclaim_duration_seconds_count 3\n"));
}

TEST(MetricsPage, LabelledCountersAreSortedAndEscaped) {
  Metrics metrics("dev\"1\\\n");
  metrics.record_error("reclaim");
  metrics.record_error("odd\"kind\\\n");
  metrics.record_error("read_stats");
  metrics.record_error("reclaim");
  const auto text = metrics.render();
  EXPECT_THAT(text, HasSubstr("cgmm_errors_total{kind=\"odd\\\"kind\\\\\\n\"} 1\n"
                              "cgmm_errors_total{kind=\"read_stats\"} 1\n"
                              "cgmm_errors_total{kind=\"reclaim\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_build_info{version=\"dev\\\"1\\\\\\n\"} 1\n"));
}

TEST(MetricsPage, FamiliesComeInTheirFixedOrder) {
  Metrics metrics("dev", {}, 10s);
  metrics.record_error("read_stats");
  metrics.record_reclaim(reclaim("/a", R::kDone, 1, 1ms), {}, kAt);
  std::vector<LeafGauges> leaves = {{"/a", 0, 10, 100, 50, nullptr}};
  leaves[0].working_set_bytes = 5;
  metrics.publish_scan(1ms, {}, leaves);
  metrics.record_reclaim(reclaim("/a", R::kDone, 1, 1ms), {}, kAt);
  const auto text = metrics.render();
  const std::vector<std::string> order = {"cgmm_scans_total",
                                          "cgmm_scan_duration_seconds",
                                          "cgmm_last_scan_timestamp_seconds",
                                          "cgmm_scan_interval_seconds",
                                          "cgmm_leaves",
                                          "cgmm_reclaims_total",
                                          "cgmm_reclaimed_bytes_total",
                                          "cgmm_reclaim_duration_seconds",
                                          "cgmm_errors_total",
                                          "cgmm_leaf_cache_bytes",
                                          "cgmm_leaf_working_set_bytes",
                                          "cgmm_leaf_limit_bytes",
                                          "cgmm_leaf_threshold_bytes",
                                          "cgmm_leaf_last_reclaim_timestamp_seconds",
                                          "cgmm_leaf_backoff_streak",
                                          "cgmm_build_info"};
  std::size_t at = 0;
  for (const std::string& name : order) {
    const std::size_t found = text.find("# HELP " + name + " ");
    ASSERT_NE(found, std::string::npos) << name << " in:\n" << text;
    EXPECT_GE(found, at) << name << " out of order in:\n" << text;
    EXPECT_EQ(text.find("# HELP " + name + " ", found + 1), std::string::npos) << name;
    at = found;
  }
}

TEST(MetricsPage, ConcurrentScansReclaimsAndRendersLoseNothing) {
  Metrics metrics("dev");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      const std::string name = "/" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        metrics.record_reclaim(reclaim(name, R::kDone, 1, 1ms), {}, kAt);
        metrics.record_error("read_stats");
        if (t == 0) {
          const std::vector<LeafGauges> leaves = {
              {"/0", 1, static_cast<std::uint64_t>(i), {}, {}, nullptr}};
          metrics.publish_scan(1ms, {}, leaves);
        }
      }
    });
  }
  threads.emplace_back([&metrics] {
    for (int i = 0; i < 200; ++i) {
      EXPECT_THAT(metrics.render(), HasSubstr("cgmm_build_info"));
    }
  });
  for (auto& thread : threads) {
    thread.join();
  }
  const auto text = metrics.render();
  const std::string total = std::to_string(kThreads * kPerThread);
  EXPECT_THAT(text, HasSubstr("cgmm_reclaims_total{result=\"done\"} " + total + "\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_reclaimed_bytes_total " + total + "\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_errors_total{kind=\"read_stats\"} " + total + "\n"));
  EXPECT_THAT(text, HasSubstr("cgmm_scans_total " + std::to_string(kPerThread) + "\n"));
  EXPECT_THAT(text, Not(HasSubstr("cgroup=\"/1\"")));
}

}  // namespace
}  // namespace cgmm::obs
