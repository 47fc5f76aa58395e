#include "obs/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cgmm::obs {
namespace {

using testing::HasSubstr;
using testing::Not;

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

TEST(MetricsRender, CounterWithoutLabels) {
  Registry registry;
  auto& scans = registry.counter("cgmm_scans_total", "Scans completed.");
  scans.inc();
  scans.inc(2);
  scans.inc(-5);  // ignored: counters never go down
  EXPECT_EQ(registry.render(),
            "# HELP cgmm_scans_total Scans completed.\n"
            "# TYPE cgmm_scans_total counter\n"
            "cgmm_scans_total 3\n");
}

TEST(MetricsRender, LabelledSeriesAreSortedAndEscaped) {
  Registry registry;
  auto& leaf = registry.gauge_family("cgmm_leaf_cache_bytes", "Cache.", {"cgroup", "qos"});
  leaf.with("/b", "burstable").set(2048);
  leaf.with("/a\"q\\\n", "").set(1);
  EXPECT_EQ(registry.render(),
            "# HELP cgmm_leaf_cache_bytes Cache.\n"
            "# TYPE cgmm_leaf_cache_bytes gauge\n"
            "cgmm_leaf_cache_bytes{cgroup=\"/a\\\"q\\\\\\n\",qos=\"\"} 1\n"
            "cgmm_leaf_cache_bytes{cgroup=\"/b\",qos=\"burstable\"} 2048\n");
}

TEST(MetricsRender, HistogramHasCumulativeBucketsInfSumAndCount) {
  Registry registry;
  auto& h = registry.histogram_family("cgmm_reclaim_duration_seconds", "Reclaim time.", {"mode"},
                                      {0.1, 1, 10});
  auto& series = h.with("v1");
  series.observe(0.05);
  series.observe(0.1);  // bounds are inclusive
  series.observe(5);
  series.observe(100);
  EXPECT_EQ(registry.render(),
            "# HELP cgmm_reclaim_duration_seconds Reclaim time.\n"
            "# TYPE cgmm_reclaim_duration_seconds histogram\n"
            "cgmm_reclaim_duration_seconds_bucket{mode=\"v1\",le=\"0.1\"} 2\n"
            "cgmm_reclaim_duration_seconds_bucket{mode=\"v1\",le=\"1\"} 2\n"
            "cgmm_reclaim_duration_seconds_bucket{mode=\"v1\",le=\"10\"} 3\n"
            "cgmm_reclaim_duration_seconds_bucket{mode=\"v1\",le=\"+Inf\"} 4\n"
            "cgmm_reclaim_duration_seconds_sum{mode=\"v1\"} 105.15\n"
            "cgmm_reclaim_duration_seconds_count{mode=\"v1\"} 4\n");
}

TEST(MetricsRender, UnlabelledHistogramOnlyHasLe) {
  Registry registry;
  registry.histogram("cgmm_scan_duration_seconds", "Scan time.", {0.5}).observe(0.25);
  EXPECT_THAT(registry.render(), HasSubstr("cgmm_scan_duration_seconds_bucket{le=\"0.5\"} 1\n"
                                           "cgmm_scan_duration_seconds_bucket{le=\"+Inf\"} 1\n"
                                           "cgmm_scan_duration_seconds_sum 0.25\n"
                                           "cgmm_scan_duration_seconds_count 1\n"));
}

TEST(MetricsRender, HelpTextIsEscaped) {
  Registry registry;
  registry.gauge("g", "line one\nback\\slash").set(1);
  EXPECT_THAT(registry.render(), HasSubstr("# HELP g line one\\nback\\\\slash\n"));
}

TEST(MetricsRender, FamiliesRenderInRegistrationOrder) {
  Registry registry;
  registry.gauge("z_gauge", "z").set(1);
  registry.counter("a_total", "a").inc();
  const auto text = registry.render();
  EXPECT_LT(text.find("z_gauge"), text.find("a_total"));
}

TEST(MetricsFamily, RemovedSeriesDisappearFromTheExposition) {
  Registry registry;
  auto& leaf = registry.gauge_family("cgmm_leaf_cache_bytes", "Cache.", {"cgroup"});
  leaf.with("/gone").set(1);
  leaf.with("/kept").set(2);
  leaf.remove({"/gone"});
  EXPECT_THAT(registry.render(), Not(HasSubstr("/gone")));
  EXPECT_THAT(registry.render(), HasSubstr("cgmm_leaf_cache_bytes{cgroup=\"/kept\"} 2\n"));
  EXPECT_EQ(leaf.remove_if([](const auto& values) { return values[0] == "/kept"; }), 1U);
  EXPECT_EQ(leaf.size(), 0U);
}

TEST(MetricsFamily, FamilyWithoutSeriesRendersNothing) {
  Registry registry;
  registry.counter_family("cgmm_errors_total", "Errors.", {"kind"});
  EXPECT_EQ(registry.render(), "");
}

TEST(MetricsFamily, SameLabelValuesGiveTheSameSeries) {
  Registry registry;
  auto& errors = registry.counter_family("cgmm_errors_total", "Errors.", {"kind"});
  errors.with("read").inc();
  errors.with(std::string("read")).inc();
  EXPECT_EQ(errors.with("read").value(), 2);
  EXPECT_EQ(errors.size(), 1U);
}

TEST(MetricsRegistry, RejectsBadNames) {
  Registry registry;
  EXPECT_THROW(registry.counter("1bad", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("has-dash", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter_family("ok_total", "x", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(registry.counter_family("ok2_total", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.counter_family("ok3_total", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram_family("h", "x", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2", "x", {1, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h3", "x", {std::nan("")}), std::invalid_argument);
  registry.gauge("dup", "x");
  EXPECT_THROW(registry.counter("dup", "x"), std::invalid_argument);
}

TEST(MetricsRegistry, ConcurrentUpdatesAndRendersLoseNothing) {
  Registry registry;
  auto& counter = registry.counter("c_total", "c");
  auto& family = registry.gauge_family("g", "g", {"cgroup"});
  auto& histogram = registry.histogram("h", "h", {1});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.inc();
        histogram.observe(0.5);
        family.with("/" + std::to_string(t)).set(i);
        family.update({"/gone"}, [](Gauge& g) { g.inc(); });
        family.remove({"/gone"});
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 200; ++i) {
      (void)registry.render();
    }
  });
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(counter.value(), kThreads * kPerThread);
  EXPECT_EQ(histogram.snapshot().count, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(family.size(), static_cast<std::size_t>(kThreads));
}

}  // namespace
}  // namespace cgmm::obs
