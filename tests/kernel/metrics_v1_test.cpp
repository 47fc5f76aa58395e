// The gauges an alert is written against, on real cgroup v1 memory cgroups, each compared with
// what the kernel's own files say: the kubelet's working set, the backoff streak of a leaf whose
// cache is tmpfs, and when the scans run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <sstream>

#include "support/daemon_process.h"
#include "support/http_get.h"
#include "support/kernel_tree.h"

namespace cgmm::testing {
namespace {

using std::chrono::seconds;
using ::testing::EndsWith;

// The line of the sample of `family` whose labels hold `label` (an unlabelled family: ""), or
// "" without one.
std::string line_of(const std::string& page, const std::string& family, const std::string& label) {
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(family + (label.empty() ? " " : "{")) &&
        line.find(label) != std::string::npos) {
      return line;
    }
  }
  return "";
}

// Its value; empty without one.
std::optional<double> sample(const std::string& page, const std::string& family,
                             const std::string& label) {
  const std::string line = line_of(page, family, label);
  return line.empty() ? std::nullopt : std::optional(std::stod(line.substr(line.rfind(' ') + 1)));
}

std::string scrape(std::uint16_t port) {
  auto r = http_get(port, "/metrics");
  return r && r->status == 200 ? r->body : "";
}

uint64_t usage(const KernelTree& tree, const std::string& rel) {
  std::ifstream in(tree.path(rel) + "/memory.usage_in_bytes");
  uint64_t bytes = 0;
  in >> bytes;
  return bytes;
}

class MetricsV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    port_ = free_loopback_port();
  }

  // The daemon's name for `rel`, as the cgroup label carries it.
  std::string cgroup_label(const std::string& rel) const {
    const std::string top = tree_->root().substr(tree_->root().rfind('/') + 1);
    return "cgroup=\"" + top + "/" + rel + "\"";
  }

  std::unique_ptr<KernelTree> tree_;
  std::uint16_t port_ = 0;
};

// The kubelet takes total_inactive_file on v1 because the usage counts what the cgroup's
// descendants left: a pod whose container was removed keeps that container's cache charged, in
// its usage and its total_ keys but not in its own inactive_file. With the cgroup's own key the
// pod would look 30 MiB fuller than the kubelet sees it.
TEST_F(MetricsV1, TheWorkingSetIsTheUsageLessTotalInactiveFileAsTheKernelCountsThem) {
  tree_->make("live");
  tree_->fill("live", 30);
  tree_->make("pod/gone");
  tree_->fill("pod/gone", 30);
  tree_->remove("pod/gone");  // its pages stay charged to it, under the pod, until evicted
  ASSERT_GE(tree_->stat("pod", "total_inactive_file"), 25 * kMiB);
  ASSERT_LT(tree_->stat("pod", "inactive_file"), kMiB);

  DaemonProcess d({"--parent", tree_->root(), "--threshold", "1GiB", "--interval", "200ms",
                   "--listen", "127.0.0.1:" + std::to_string(port_)});
  for (const std::string rel : {"live", "pod"}) {
    SCOPED_TRACE(rel);
    std::string page;
    double expected = 0;
    std::optional<double> gauge;
    // The page is at most one interval old; the kernel's numbers move a little meanwhile (the
    // per-CPU charge caches): read until the two agree.
    EXPECT_TRUE(eventually(
        [&] {
          page = scrape(port_);
          gauge = sample(page, "cgmm_leaf_working_set_bytes", cgroup_label(rel));
          const uint64_t used = usage(*tree_, rel);
          const uint64_t inactive = tree_->stat(rel, "total_inactive_file");
          expected = used > inactive ? static_cast<double>(used - inactive) : 0;
          return gauge && std::abs(*gauge - expected) <= static_cast<double>(kMiB);
        },
        seconds(15)))
        << "expected about " << expected << "\n"
        << page << d.err();
    // Fresh, synced file pages are inactive: the working set is far below the usage.
    EXPECT_LT(gauge.value_or(0), static_cast<double>(usage(*tree_, rel)) - 25.0 * kMiB) << page;
  }
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0) << d.err();
}

// A leaf whose cache is tmpfs: its reclaim frees nothing (no swap here), and the page says so at
// once with the reason, while a leaf with nothing to reclaim shows 0.
TEST_F(MetricsV1, AFutileReclaimShowsAsABackoffStreakOfOne) {
  tree_->make("tmpfs", 100 * kMiB);
  tree_->make("idle", 100 * kMiB);
  tree_->fill_shm("tmpfs", 40);  // over 20% of 100 MiB
  // A cooldown longer than the test: one reclaim, and the streak it started.
  DaemonProcess d({"--parent", tree_->root(), "--threshold", "20%", "--interval", "200ms",
                   "--cooldown", "10m", "--listen", "127.0.0.1:" + std::to_string(port_)});
  std::string page;
  ASSERT_TRUE(eventually(
      [&] {
        page = scrape(port_);
        return page.find("cgmm_reclaims_total{result=\"done\"} 1\n") != std::string::npos;
      },
      seconds(20)))
      << page << d.err();
  // What the kernel says: the tmpfs pages are all still there.
  EXPECT_GE(tree_->stat("tmpfs", "shmem"), 39 * kMiB);
  EXPECT_THAT(line_of(page, "cgmm_leaf_backoff_streak", cgroup_label("tmpfs")),
              EndsWith(",reason=\"futile\"} 1"))
      << page;
  EXPECT_THAT(line_of(page, "cgmm_leaf_backoff_streak", cgroup_label("idle")),
              EndsWith(",reason=\"\"} 0"))
      << page;
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0) << d.err();
}

// What an alert on stalled scans compares: the interval as configured, and a last scan that
// ended between the daemon's start and the scrape, by the wall clock.
TEST_F(MetricsV1, TheLastScanEndedSinceTheStartAndTheIntervalIsTheConfiguredOne) {
  tree_->make("leaf");
  const auto now_seconds = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const double started = now_seconds();
  DaemonProcess d({"--parent", tree_->root(), "--interval", "250ms", "--listen",
                   "127.0.0.1:" + std::to_string(port_)});
  std::string page;
  ASSERT_TRUE(eventually(
      [&] {
        page = scrape(port_);
        return sample(page, "cgmm_scans_total", "").value_or(0) >= 2;
      },
      seconds(15)))
      << page << d.err();
  const double scraped = now_seconds();
  EXPECT_EQ(sample(page, "cgmm_scan_interval_seconds", ""), 0.25) << page;
  const std::optional<double> last = sample(page, "cgmm_last_scan_timestamp_seconds", "");
  ASSERT_TRUE(last) << page;
  EXPECT_GE(*last, started) << page;
  EXPECT_LE(*last, scraped) << page;
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0) << d.err();
}

}  // namespace
}  // namespace cgmm::testing
