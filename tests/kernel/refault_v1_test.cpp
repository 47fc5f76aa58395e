// Leaves that read back what a reclaim freed, on real cgroup v1 memory cgroups: the kernel counts
// the read-back in memory.stat (workingset_refault_file), and the daemon backs off from such a
// hot cache; with --no-refault-backoff it takes the cache again at every cooldown.
#include <gtest/gtest.h>

#include <csignal>

#include "support/daemon_process.h"
#include "support/json_log.h"
#include "support/kernel_tree.h"

namespace cgmm::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kPageBytes = 4096;
// Long enough for the test to read the freed 40 MiB back from disk on a busy machine before the
// daemon's judgment a cooldown after the reclaim.
constexpr seconds kCooldown{5};
constexpr size_t kReadBackTries = 3;

class RefaultV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    // 20% of 100 MiB: each leaf's 40 MiB is over it.
    tree_->make("hot", 100 * kMiB);
    tree_->make("cold", 100 * kMiB);
    hot_file_ = tree_->fill("hot", 40);
    tree_->fill("cold", 40);
  }

  std::unique_ptr<DaemonProcess> start(bool feedback) {
    std::vector<std::string> args = {"--parent",     tree_->root(), "--threshold", "20%",
                                     "--interval",   "100ms",       "--cooldown",  "5s",
                                     "--log-format", "json",        "--log-level", "debug"};
    if (!feedback) {
      args.emplace_back("--no-refault-backoff");
    }
    return std::make_unique<DaemonProcess>(args);
  }

  // Waits for the daemon's reclaim of the hot leaf, then reads what it freed back into the leaf's
  // cache, until the kernel counts the read-back as refaults: a force_empty that runs on after
  // the leaf's LRU is empty may also shrink the leaf's shadow entries, the kernel's memory of
  // what it evicted, and then nothing read back counts (seen about once in ten runs here). Returns
  // what the kernel counted as refaulted, in bytes, and in `reclaim` which reclaim (0: the first)
  // it was of.
  uint64_t reclaim_and_read_back(const DaemonProcess& d, size_t& reclaim) {
    uint64_t refaulted = 0;
    for (reclaim = 0; reclaim < kReadBackTries; ++reclaim) {
      EXPECT_TRUE(eventually([&] { return events(d.err(), "reclaim", "/hot").size() > reclaim; },
                             seconds(20)))
          << d.err();
      EXPECT_LT(tree_->cache("hot"), 5 * kMiB);
      const uint64_t before = tree_->stat("hot", "workingset_refault_file");
      tree_->read("hot", hot_file_);
      refaulted = (tree_->stat("hot", "workingset_refault_file") - before) * kPageBytes;
      // The daemon judges by the same counter: half of what it freed makes the reclaim harmful.
      const auto freed =
          events(d.err(), "reclaim", "/hot").at(reclaim)["freed_bytes"].get<uint64_t>();
      if (2 * refaulted >= freed) {
        break;
      }
      std::cout << "the kernel counted " << refaulted / kMiB << " MiB of 40 read back; again\n";
    }
    return refaulted;
  }

  static size_t hot_cache_decisions(const std::string& log) {
    size_t n = 0;
    for (const auto& d : events(log, "decision", "/hot")) {
      n += d["reason"] == "hot cache" ? 1 : 0;
    }
    return n;
  }

  std::unique_ptr<KernelTree> tree_;
  std::string hot_file_;
};

TEST_F(RefaultV1, ALeafThatReadsBackWhatWasFreedIsLeftItsCache) {
  auto d = start(true);
  size_t judged = 0;  // which of the hot leaf's reclaims was read back and counted
  const uint64_t refaulted = reclaim_and_read_back(*d, judged);
  // The kernel counted the read-back: at least half of the 40 MiB came back from disk.
  ASSERT_GE(refaulted, 20 * kMiB);
  EXPECT_GE(tree_->cache("hot"), 30 * kMiB);
  // The cold leaf writes new files, which are no refaults.
  tree_->fill("cold", 40);
  ASSERT_TRUE(eventually([&] { return !events(d->err(), "reclaim_refaulted", "/hot").empty(); },
                         seconds(20)))
      << d->err();
  // Judged harmful and held back: the leaf keeps the cache it read back, over its threshold.
  EXPECT_GE(tree_->cache("hot"), 30 * kMiB);
  ASSERT_TRUE(eventually([&] { return hot_cache_decisions(d->err()) > 0; }, seconds(20)))
      << d->err();
  // Reclaimed again once the backoff of two cooldowns is over; the cold leaf after one.
  ASSERT_TRUE(eventually([&] { return events(d->err(), "reclaim", "/hot").size() > judged + 1; },
                         seconds(30)))
      << d->err();
  ASSERT_TRUE(
      eventually([&] { return events(d->err(), "reclaim", "/cold").size() >= 2; }, seconds(30)))
      << d->err();
  d->signal(SIGTERM);
  ASSERT_EQ(d->wait(seconds(5)), 0);

  const std::string log = d->err();
  const auto first = events(log, "reclaim", "/hot").at(judged);
  const auto warned = events(log, "reclaim_refaulted", "/hot");
  ASSERT_EQ(warned.size(), 1u) << log;
  EXPECT_EQ(warned[0]["level"], "warning");
  EXPECT_EQ(warned[0]["freed_bytes"], first["freed_bytes"]);
  // At least half of what was freed came back, and no more than the kernel counted or was freed.
  const auto back = warned[0]["refaulted_bytes"].get<uint64_t>();
  const auto freed = warned[0]["freed_bytes"].get<uint64_t>();
  EXPECT_GE(2 * back, freed);
  EXPECT_LE(back, std::min(freed, refaulted));
  EXPECT_EQ(warned[0]["backoff_streak"], 1);
  EXPECT_EQ(warned[0]["backoff_seconds"], 2 * kCooldown.count());
  // The next reclaim started two cooldowns after the harmful one, not one (log times are to the
  // millisecond, each taken a moment after its decision).
  const auto starts = events(log, "reclaim_start", "/hot");
  ASSERT_GT(starts.size(), judged + 1);
  EXPECT_GE(parse_log_time(starts[judged + 1]["time"]) - parse_log_time(starts[judged]["time"]),
            2 * kCooldown - milliseconds(100));
  // The cold leaf's reclaims helped: never a hot cache.
  EXPECT_TRUE(events(log, "reclaim_refaulted", "/cold").empty()) << log;
  std::cout << "hot leaf: " << freed / kMiB << " MiB freed, " << back / kMiB
            << " MiB read back by the daemon's count, " << refaulted / kMiB
            << " MiB by the kernel's; " << hot_cache_decisions(log) << " scans held it back\n";
}

// The control: without the feedback the same read-back is taken again once the cooldown is over.
TEST_F(RefaultV1, WithoutFeedbackTheCacheReadBackIsReclaimedAgain) {
  auto d = start(false);
  size_t judged = 0;
  ASSERT_GE(reclaim_and_read_back(*d, judged), 20 * kMiB);
  ASSERT_TRUE(eventually([&] { return events(d->err(), "reclaim", "/hot").size() > judged + 1; },
                         seconds(30)))
      << d->err();
  EXPECT_TRUE(eventually([&] { return tree_->cache("hot") < 5 * kMiB; }, seconds(10)));
  d->signal(SIGTERM);
  ASSERT_EQ(d->wait(seconds(5)), 0);
  const std::string log = d->err();
  EXPECT_TRUE(events(log, "reclaim_refaulted", "/hot").empty()) << log;
  EXPECT_EQ(hot_cache_decisions(log), 0u) << log;
}

}  // namespace
}  // namespace cgmm::testing
