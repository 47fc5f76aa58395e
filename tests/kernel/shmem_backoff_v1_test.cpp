// Leaves whose cache is tmpfs (shmem), which force_empty cannot free on this machine (no swap),
// on real cgroup v1 memory cgroups: backed off after a futile reclaim, or with --exclude-shmem
// never reclaimed at all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "support/daemon_process.h"
#include "support/json_log.h"
#include "support/kernel_tree.h"

namespace cgmm::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

class ShmemV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    tree_->make("tmpfs", 100 * kMiB);
    tree_->make("disk", 100 * kMiB);
    tree_->fill_shm("tmpfs", 40);
    ASSERT_GE(tree_->stat("tmpfs", "shmem"), 39 * kMiB);
  }

  std::unique_ptr<KernelTree> tree_;
};

// Number of "decision" events with reason backoff for the tmpfs leaf between two log times.
size_t backoffs_between(const std::vector<nlohmann::json>& decisions, const std::string& from,
                        const std::string& to) {
  size_t n = 0;
  for (const auto& d : decisions) {
    const std::string t = d["time"];
    if (d["reason"] == "backoff" && t > from && t < to) {
      ++n;
    }
  }
  return n;
}

TEST_F(ShmemV1, FutileReclaimIsBackedOffExponentially) {
  // 20% of 100 MiB: the 40 MiB of tmpfs is over it. Cooldown 500 ms: without backoff a reclaim
  // every half second.
  DaemonProcess d({"--parent", tree_->root(), "--threshold", "20%", "--interval", "100ms",
                   "--cooldown", "500ms", "--log-format", "json", "--log-level", "debug"});
  ASSERT_TRUE(
      eventually([&] { return events(d.err(), "reclaim", "/tmpfs").size() >= 3; }, seconds(20)))
      << d.err();
  // A disk-cache leaf is still reclaimed meanwhile. Over its threshold with its last write only:
  // a reclaim racing a whole fill would leave what the writer adds after it.
  tree_->fill_over("disk", 20 * kMiB);
  ASSERT_TRUE(eventually([&] { return tree_->cache("disk") < 5 * kMiB; }, seconds(10))) << d.err();
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait(seconds(5)), 0);

  const std::string log = d.err();
  const auto reclaims = events(log, "reclaim", "/tmpfs");
  ASSERT_GE(reclaims.size(), 3u);
  for (const auto& r : reclaims) {
    EXPECT_LT(r["freed_bytes"].get<uint64_t>(), r["target_bytes"].get<uint64_t>() / 10) << r;
  }
  // Warned once, at the first futile reclaim, naming the shmem.
  const auto warned = events(log, "reclaim_backoff", "/tmpfs");
  ASSERT_EQ(warned.size(), 1u) << log;
  EXPECT_EQ(warned[0]["level"], "warning");
  EXPECT_GE(warned[0]["shmem_bytes"].get<uint64_t>(), 39 * kMiB);
  EXPECT_THAT(warned[0]["msg"].get<std::string>(), HasSubstr("shmem/tmpfs"));
  // The scans in between say why the leaf was left alone, and the second wait (4 cooldowns) holds
  // more of them than the first (2 cooldowns).
  const auto decisions = events(log, "decision", "/tmpfs");
  const size_t first = backoffs_between(decisions, reclaims[0]["time"], reclaims[1]["time"]);
  const size_t second = backoffs_between(decisions, reclaims[1]["time"], reclaims[2]["time"]);
  EXPECT_GT(first, 0u);
  EXPECT_GT(second, first);
  // Nothing was freed: the tmpfs pages are all still there.
  EXPECT_GE(tree_->stat("tmpfs", "shmem"), 39 * kMiB);
  EXPECT_TRUE(events(log, "reclaim_backoff", "/disk").empty());
  RecordProperty("tmpfs_reclaims", static_cast<int>(reclaims.size()));
  std::cout << "tmpfs leaf: " << reclaims.size() << " reclaims, " << first << " then " << second
            << " scans held back between them\n";
}

TEST_F(ShmemV1, ExcludeShmemLeavesTmpfsAloneAndStillReclaimsDiskCache) {
  tree_->fill("disk", 40);
  RunResult r = run_daemon({"--parent", tree_->root(), "--threshold", "20%", "--once",
                            "--exclude-shmem", "--output", "json", "--log-format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(tree_->cache("disk"), 5 * kMiB);
  EXPECT_GE(tree_->stat("tmpfs", "shmem"), 39 * kMiB);
  EXPECT_TRUE(events(r.err, "reclaim", "/tmpfs").empty()) << r.err;
  EXPECT_EQ(events(r.err, "reclaim", "/disk").size(), 1u) << r.err;

  auto report = nlohmann::json::parse(r.out);
  for (const auto& row : report["cgroups"]) {
    if (row["cgroup"].get<std::string>().ends_with("/tmpfs")) {
      EXPECT_EQ(row["action"], "none");
      EXPECT_EQ(row["reason"], "below threshold");
    }
  }
  // Without the option the same tmpfs leaf is reclaimed (for nothing).
  RunResult all = run_daemon(
      {"--parent", tree_->root(), "--threshold", "20%", "--once", "--log-format", "json"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(events(all.err, "reclaim", "/tmpfs").size(), 1u) << all.err;
}

}  // namespace
}  // namespace cgmm::testing
