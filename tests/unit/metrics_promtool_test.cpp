// Checks the exposition against Prometheus' own parser and linter (`promtool check metrics`,
// from Debian's prometheus package). Skipped when promtool is missing, except under CI (the CI
// environment variable set), where a missing promtool fails the test.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "obs/metrics.h"
#include "support/promtool.h"

namespace cgmm::obs {
namespace {

using namespace std::chrono_literals;

// Every family with series, labels that need escaping, an unlimited leaf, one bounded by
// memory.high and in backoff, an unread one and a reclaimed one.
std::string populated_exposition() {
  const LeafLabels pod = {
      "/sys/fs/cgroup/memory/kubepods/burstable/pod0f3c1a2b-4d5e-4f60-8a7b-9c0d1e2f3a4b/"
      "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
      "0f3c1a2b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
      "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "burstable"};
  const LeafLabels odd = {"/batch/we\"ird\\name\nwith newline", "", "", ""};
  Metrics metrics(
      "0.1.0",
      [&](std::string_view cgroup) {
        return cgroup == pod.cgroup ? pod : LeafLabels{std::string(cgroup), "", "", ""};
      },
      10s);
  std::vector<LeafGauges> leaves = {
      {pod.cgroup, 1, 734003200, 2147483648, 536870912, nullptr},
      {odd.cgroup, 2, 0, std::nullopt, 536870912, nullptr},
      {"/batch/throttled", 4, 1, 1073741824, 268435456, nullptr, core::LimitKind::kHigh},
      {"/batch/unread", 3, {}, {}, {}, nullptr}};
  leaves[0].working_set_bytes = 412090368;
  leaves[2].backoff_streak = 3;
  leaves[2].hot_cache = true;
  const std::chrono::system_clock::time_point at(1764403190s);
  metrics.publish_scan(2ms, at, leaves);
  metrics.publish_scan(40ms, at + 10s, leaves);
  metrics.record_error("read_stats");
  core::ReclaimOutcome done;
  done.name = pod.cgroup;
  done.inode = 1;
  done.cache_before_bytes = 734003200;
  done.cache_after_bytes = 536870912;
  done.took = 1500ms;
  metrics.record_reclaim(done, {}, std::chrono::system_clock::time_point(1764403200s));
  core::ReclaimOutcome partial;
  partial.name = odd.cgroup;
  partial.inode = 2;
  partial.result = core::ReclaimOutcome::Result::kPartial;
  partial.took = 20ms;
  metrics.record_reclaim(partial, {}, std::chrono::system_clock::time_point(1764403201250ms));
  return metrics.render();
}

TEST(MetricsPromtool, PromtoolAcceptsTheDaemonsExposition) {
  CGMM_REQUIRE_PROMTOOL();
  const auto text = populated_exposition();
  const auto result = testing::promtool_check_metrics(text);
  EXPECT_EQ(result.exit_code, 0) << "promtool says:\n" << result.output << "\non:\n" << text;
  EXPECT_EQ(result.output, "") << "on:\n" << text;
}

}  // namespace
}  // namespace cgmm::obs
