// A reclaim that takes long, on real cgroup v1 memory cgroups. force_empty on this kernel returns
// within tens of milliseconds even with gigabytes of anonymous memory and no swap (anon is not
// scanned without swap, and the kernel gives up after a few rounds without progress), so the slow
// write is made by a WriteGate: the daemon's real write to the slow leaf's memory.force_empty
// waits, interruptibly, for as long as the test wants, then reaches the kernel.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include "support/daemon_process.h"
#include "support/json_log.h"
#include "support/kernel_tree.h"
#include "support/write_gate.h"

namespace cgmm::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kSlowFile = "/slow/memory.force_empty";
constexpr uint64_t kThreshold = 10 * kMiB;  // --threshold 10MiB

class SlowReclaimV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    tree_->make("slow", 200 * kMiB);
    tree_->make("fast", 200 * kMiB);
    tree_->fill("slow", 30);
  }

  std::vector<std::string> args(const std::string& cooldown) const {
    return {"--parent",   tree_->root(), "--threshold",  "10MiB", "--interval",  "100ms",
            "--cooldown", cooldown,      "--log-format", "json",  "--log-level", "debug"};
  }

  std::unique_ptr<KernelTree> tree_;
};

TEST_F(SlowReclaimV1, OtherLeavesAreReclaimedMeanwhileAndTheSlowOneNeverTwice) {
  FdChannel channel;
  // Cooldown 0: only the in-flight mark keeps the daemon from writing to the slow leaf again.
  DaemonProcess d(args("0"), {}, WriteGate::installer(channel));
  WriteGate gate(channel, kSlowFile);
  ASSERT_TRUE(eventually([&] { return gate.held(kSlowFile) == 1; }, seconds(10))) << d.err();

  for (int round = 0; round < 3; ++round) {
    // Over the threshold with its last write only: one reclaim a round, which leaves no writer's
    // rest over the threshold for another.
    tree_->fill_over("fast", kThreshold);
    ASSERT_TRUE(eventually([&] { return tree_->cache("fast") < 5 * kMiB; }, seconds(10)))
        << "round " << round << "\n"
        << d.err();
  }
  EXPECT_EQ(gate.held(kSlowFile), 1u);
  EXPECT_EQ(gate.seen(kSlowFile), 1u) << "a second reclaim of the slow leaf was started";
  EXPECT_GE(tree_->cache("slow"), left_alone(30));
  EXPECT_TRUE(
      eventually([&] { return events(d.err(), "reclaim", "/fast").size() == 3; }, seconds(5)));
  EXPECT_TRUE(events(d.err(), "reclaim", "/slow").empty());

  const auto sent = std::chrono::steady_clock::now();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0) << d.err();
  const auto took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - sent);
  RecordProperty("sigterm_exit_ms", static_cast<int>(took.count()));
  std::cout << "exit after SIGTERM during the held reclaim: " << took.count() << " ms\n";
}

TEST_F(SlowReclaimV1, ASignalMidReclaimIsRetriedNotReported) {
  FdChannel channel;
  // A long cooldown: a second write can only be the worker retrying after EINTR.
  DaemonProcess d(args("1h"), {}, WriteGate::installer(channel));
  WriteGate gate(channel, kSlowFile);
  ASSERT_TRUE(eventually([&] { return gate.held(kSlowFile) == 1; }, seconds(10))) << d.err();

  // The reclaim worker held in its write (other threads may be in other writes meanwhile).
  const std::vector<pid_t> writers = gate.holders(kSlowFile);
  ASSERT_EQ(writers.size(), 1u);
  ASSERT_EQ(::syscall(SYS_tgkill, d.pid(), writers[0], SIGUSR1), 0);
  ASSERT_TRUE(eventually([&] { return gate.seen(kSlowFile) == 2; }, seconds(10))) << d.err();

  gate.release();
  ASSERT_TRUE(eventually([&] { return tree_->cache("slow") < 5 * kMiB; }, seconds(10))) << d.err();
  ASSERT_TRUE(eventually([&] { return !events(d.err(), "reclaim", "/slow").empty(); }, seconds(5)));
  EXPECT_EQ(events(d.err(), "reclaim", "/slow")[0]["result"], "done");
  EXPECT_TRUE(events(d.err(), "reclaim_failed").empty()) << d.err();
  EXPECT_TRUE(events(d.err(), "reclaim_interrupted").empty()) << d.err();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0);
}

TEST_F(SlowReclaimV1, ALeafRemovedDuringItsReclaimIsNotAnError) {
  FdChannel channel;
  DaemonProcess d(args("1h"), {}, WriteGate::installer(channel));
  WriteGate gate(channel, kSlowFile);
  ASSERT_TRUE(eventually([&] { return gate.held(kSlowFile) == 1; }, seconds(10))) << d.err();
  tree_->remove("slow");
  gate.release();  // the write now reaches a removed cgroup: the kernel answers ENODEV
  ASSERT_TRUE(eventually([&] { return !events(d.err(), "reclaim_vanished").empty(); }, seconds(10)))
      << d.err();
  EXPECT_TRUE(events(d.err(), "reclaim_failed").empty()) << d.err();
  EXPECT_TRUE(events(d.err(), "cgroup_error").empty()) << d.err();
  EXPECT_TRUE(d.running());
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0);
}

}  // namespace
}  // namespace cgmm::testing
