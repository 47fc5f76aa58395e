// The built daemon against real cgroup v1 memory cgroups of this machine. Every assertion on what
// the daemon did is made on what the kernel reports in memory.stat.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <iostream>

#include "support/daemon_process.h"
#include "support/kernel_tree.h"

namespace cgmm::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// kubepods-like: a burstable pod limited to 200 MiB holding a container with its own 100 MiB limit
// and one without a limit of its own; a guaranteed pod limited to 120 MiB; a besteffort pod with
// no limit anywhere.
constexpr const char* kOwnLimit = "burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11/c1";
constexpr const char* kPodLimit = "burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11/c2";
constexpr const char* kInherits = "pod7d3e91aa-44b0-4f5e-8a61-0f2b9c8e7d21/c4";
constexpr const char* kNoLimit = "besteffort/pod0a1b2c3d-1111-2222-3333-444455556666/c3";

class DaemonV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    tree_->make("burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11", 200 * kMiB);
    tree_->make(kOwnLimit, 100 * kMiB);
    tree_->make(kPodLimit);
    tree_->make("pod7d3e91aa-44b0-4f5e-8a61-0f2b9c8e7d21", 120 * kMiB);
    tree_->make(kInherits);
    tree_->make(kNoLimit);
  }

  // With --threshold 25%: c1 over (40 of 25 MiB), c2 under (30 of 50 MiB), c4 over through its
  // pod's limit (40 of 30 MiB), c3 has no limit, so a percentage never applies.
  void fill_all() {
    tree_->fill(kOwnLimit, 40);
    tree_->fill(kPodLimit, 30);
    tree_->fill(kInherits, 40);
    tree_->fill(kNoLimit, 60);
  }

  std::unique_ptr<KernelTree> tree_;
};

TEST_F(DaemonV1, OncePassReclaimsExactlyTheLeavesOverThreshold) {
  fill_all();
  ASSERT_GT(tree_->cache(kOwnLimit), 25 * kMiB);

  RunResult r = run_daemon({"--parent", tree_->root(), "--threshold", "25%", "--once"});
  ASSERT_EQ(r.code, 0) << r.err;

  EXPECT_LT(tree_->cache(kOwnLimit), 5 * kMiB);
  EXPECT_LT(tree_->cache(kInherits), 5 * kMiB);
  EXPECT_GE(tree_->cache(kPodLimit), left_alone(30));
  EXPECT_GE(tree_->cache(kNoLimit), left_alone(60));
  // One row per leaf, and the log says what was reclaimed.
  EXPECT_THAT(r.out, HasSubstr("c1"));
  EXPECT_THAT(r.out, HasSubstr("no limit"));
  EXPECT_THAT(r.out, HasSubstr("below threshold"));
  EXPECT_THAT(r.err, HasSubstr(std::string("reclaimed ") + "cgmm-test-"));
}

TEST_F(DaemonV1, SizeThresholdAppliesToLeavesWithoutLimit) {
  fill_all();
  RunResult r = run_daemon({"--parent", tree_->root(), "--threshold", "50MiB", "--once"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(tree_->cache(kNoLimit), 5 * kMiB);
  EXPECT_GE(tree_->cache(kOwnLimit), left_alone(40));
}

TEST_F(DaemonV1, DryRunWritesNothing) {
  fill_all();
  const uint64_t before = tree_->cache(kOwnLimit);
  RunResult r =
      run_daemon({"--parent", tree_->root(), "--threshold", "1MiB", "--once", "--dry-run"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(tree_->cache(kOwnLimit), before / 2);
  EXPECT_GE(tree_->cache(kInherits), left_alone(40));
  EXPECT_GE(tree_->cache(kNoLimit), left_alone(60));
  EXPECT_THAT(r.out, HasSubstr("would reclaim"));
}

TEST_F(DaemonV1, RunningDaemonHoldsTheCooldown) {
  constexpr auto kCooldown = seconds(4);
  constexpr uint64_t kThreshold = 25 * kMiB;  // the default 25% of c1's 100 MiB
  // Over its threshold before the daemon starts: its first scan reclaims it, the writer long
  // gone. No reclaim of this daemon starts before `started`, so its cooldown lasts at least until
  // started + kCooldown, however late the daemon got to its first scan.
  tree_->fill(kOwnLimit, 40);
  const auto started = std::chrono::steady_clock::now();
  DaemonProcess d({"--parent", tree_->root(), "--interval", "200ms", "--cooldown", "4s"});
  ASSERT_TRUE(eventually([&] { return tree_->cache(kOwnLimit) < 5 * kMiB; }, seconds(20)))
      << d.err();

  // Refilled inside the cooldown, over the threshold with its last write only (a reclaim cannot
  // take part of the refill and leave the rest): left alone for as long as the cooldown surely
  // lasts...
  tree_->fill_over(kOwnLimit, kThreshold);
  const auto refilled = std::chrono::steady_clock::now();
  bool reclaimed_early = false;
  for (;;) {
    const uint64_t cache = tree_->cache(kOwnLimit);
    // Taken after the read: a read before started + kCooldown was made inside the cooldown.
    if (std::chrono::steady_clock::now() >= started + kCooldown) {
      break;
    }
    // A reclaim by the daemon empties the leaf; the host's own reclaim, on a busy machine, may
    // trim a little of it (seen in sanitizer runs: just under the threshold, then no reclaim).
    if (cache < 5 * kMiB) {
      reclaimed_early = true;
      break;
    }
    ::usleep(50'000);
  }
  EXPECT_FALSE(reclaimed_early) << "reclaimed again inside the cooldown\n" << d.err();
  if (tree_->cache(kOwnLimit) <= kThreshold) {
    tree_->fill(kOwnLimit, 2);  // trimmed under it meanwhile: over it once more
  }

  // ...and reclaimed once it has passed (had it passed before the refill's last write, that
  // write is all a reclaim could leave), and not before.
  ASSERT_TRUE(eventually([&] { return tree_->cache(kOwnLimit) < 5 * kMiB; }, seconds(20)))
      << d.err();
  EXPECT_GE(std::chrono::steady_clock::now() - started, kCooldown);
  const auto watched = std::chrono::duration_cast<milliseconds>(started + kCooldown - refilled);
  std::cout << "refill watched over its threshold for the last "
            << std::max<int64_t>(0, watched.count()) << " ms of the cooldown\n";
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0);
}

TEST_F(DaemonV1, NewLeavesAreFoundAndGoneOnesForgotten) {
  DaemonProcess d({"--parent", tree_->root(), "--interval", "200ms"});
  ASSERT_TRUE(d.wait_for_log("watching 4 leaf cgroups", seconds(10))) << d.err();

  // Over its threshold (25% of its pod's 200 MiB) with its last write only: the reclaim cannot
  // leave behind what a writer still writing adds after it.
  const std::string late = "burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11/late";
  tree_->make(late);
  tree_->fill_over(late, 50 * kMiB);
  EXPECT_TRUE(eventually([&] { return tree_->cache(late) < 5 * kMiB; }, seconds(20))) << d.err();
  EXPECT_THAT(d.err(), HasSubstr("/late appeared"));

  ASSERT_EQ(::rmdir(tree_->path(kNoLimit).c_str()), 0);
  EXPECT_TRUE(d.wait_for_log("/c3 disappeared", seconds(10))) << d.err();
  EXPECT_TRUE(d.running());
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0);
}

TEST_F(DaemonV1, SigtermAndSigintEndItPromptlyWithCodeZero) {
  for (int sig : {SIGTERM, SIGINT}) {
    DaemonProcess d({"--parent", tree_->root(), "--interval", "60"});
    ASSERT_TRUE(d.wait_for_log("watching", seconds(10))) << d.err();
    d.signal(sig);
    // Generous bound for a loaded machine; the daemon itself wakes at once from its poll.
    EXPECT_EQ(d.wait(seconds(3)), 0) << "signal " << sig << "\n" << d.err();
  }
}

TEST_F(DaemonV1, JsonLogsCarryTheReclaim) {
  tree_->fill(kOwnLimit, 40);
  RunResult r = run_daemon({"--parent", tree_->root(), "--once", "--log-format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(tree_->cache(kOwnLimit), 5 * kMiB);
  EXPECT_THAT(r.err, HasSubstr(R"("event":"reclaim")"));
  EXPECT_THAT(r.err, HasSubstr(R"("freed_bytes":)"));
}

TEST(DaemonV1Usage, BadParentIsAUsageError) {
  CGMM_REQUIRE_KERNEL();
  RunResult tmp = run_daemon({"--parent", "/tmp"});
  EXPECT_EQ(tmp.code, 2);
  EXPECT_THAT(tmp.err, HasSubstr("not on a cgroup filesystem"));
  RunResult missing = run_daemon({"--parent", "/sys/fs/cgroup/memory/cgmm-no-such-cgroup"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("does not exist"));
  RunResult cpu = run_daemon({"--parent", "/sys/fs/cgroup/cpu"});
  EXPECT_EQ(cpu.code, 2);
  EXPECT_THAT(cpu.err, HasSubstr("not in the memory hierarchy"));
}

}  // namespace
}  // namespace cgmm::testing
