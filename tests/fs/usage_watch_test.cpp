// The watch between scans. cgroup v2: memory.current read at a pace set by the distance to the
// level, reporting each crossing once. cgroup v1: the registration written to
// cgroup.event_control, and a usage already over the level reported without the kernel. Runs on
// temp-dir stand-ins of the files and an injected time.
#include "cgroup/usage_watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cgroup/io.h"
#include "support/temp_tree.h"

namespace cgmm::testing {
namespace {

using cgroup::UsageWatch;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kThreshold = 64 * kMiB;

class UsageWatchTest : public ::testing::Test {
 protected:
  UsageWatchTest() { set_usage(0); }

  void set_usage(uint64_t bytes) {
    tree_.write("leaf/memory.current", std::to_string(bytes) + "\n");
  }

  cgroup::IoStatus watch(uint64_t inode, uint64_t threshold) {
    return v2_.watch(inode, threshold, [&] {
      return cgroup::open_dir_at(AT_FDCWD, (tree_.root() / "leaf").c_str());
    });
  }

  // The inodes reported by a take() at `now`.
  std::vector<uint64_t> take(UsageWatch::TimePoint now) {
    std::vector<uint64_t> inodes;
    v2_.take(inodes, now);
    return inodes;
  }

  // A take() at the moment the next read is due.
  std::vector<uint64_t> take_when_due() { return take(now_ = std::max(now_, v2_.next_due())); }

  TempTree tree_;
  UsageWatch v2_{cgroup::Version::kV2};
  UsageWatch::TimePoint now_ = UsageWatch::TimePoint() + std::chrono::hours(1);
};

TEST(UsageWatchPeriod, ReadsSoonerTheCloserALeafIsToItsLevel) {
  EXPECT_EQ(UsageWatch::period(0), UsageWatch::kMinPeriod);
  EXPECT_EQ(UsageWatch::period(1 * kMiB), UsageWatch::kMinPeriod);
  EXPECT_EQ(UsageWatch::period(128 * kMiB), milliseconds(500));
  EXPECT_EQ(UsageWatch::period(256 * kMiB), UsageWatch::kMaxPeriod);
  EXPECT_EQ(UsageWatch::period(UINT64_MAX), UsageWatch::kMaxPeriod);
}

TEST_F(UsageWatchTest, ANewWatchIsReadAtOnceAndThenPacedByItsHeadroom) {
  ASSERT_TRUE(watch(7, kThreshold));
  EXPECT_EQ(v2_.size(), 1u);
  EXPECT_LE(v2_.next_due(), now_);
  EXPECT_THAT(take(now_), IsEmpty());
  // 64 MiB under the level at 256 MiB/s: read again in 250 ms, rounded down to a 50 ms grid.
  EXPECT_GE(v2_.next_due(), now_ + milliseconds(230));
  EXPECT_LE(v2_.next_due(), now_ + milliseconds(250));
  // Nothing is read before it is due, whatever the usage does meanwhile.
  set_usage(kThreshold + 1);
  EXPECT_THAT(take(now_ + milliseconds(100)), IsEmpty());
}

TEST_F(UsageWatchTest, CacheGrowingAtTheFillRateIsSeenWithinTheMinimumPeriodOfCrossing) {
  constexpr uint64_t kBytesPerMs = UsageWatch::kFillRate / 1000;
  // 1 GiB: the pace goes through the once-a-second reads, the coarse grid and the fine one.
  constexpr uint64_t kLevel = 1024 * kMiB;
  const auto crossing_after = milliseconds(kLevel / kBytesPerMs + 1);
  // Fills starting at many phases against the read grid, from a quiet, empty leaf.
  for (int offset = 0; offset < 1500; offset += 37) {
    UsageWatch v2(cgroup::Version::kV2);
    set_usage(0);
    ASSERT_TRUE(v2.watch(
        1, kLevel, [&] { return cgroup::open_dir_at(AT_FDCWD, (tree_.root() / "leaf").c_str()); }));
    const UsageWatch::TimePoint start = now_ + milliseconds(offset);
    const UsageWatch::TimePoint crossing = start + crossing_after;
    std::vector<uint64_t> fired;
    UsageWatch::TimePoint t = now_;
    for (int reads = 0; fired.empty(); ++reads) {
      ASSERT_LT(reads, 1000) << "offset " << offset;
      t = std::max(t, v2.next_due());
      const auto filling = std::chrono::duration_cast<milliseconds>(t - start).count();
      set_usage(t > start ? static_cast<uint64_t>(filling) * kBytesPerMs : 0);
      v2.take(fired, t);
    }
    EXPECT_GE(t, crossing) << "offset " << offset;
    EXPECT_LE(t - crossing, UsageWatch::kMinPeriod) << "offset " << offset;
  }
}

TEST_F(UsageWatchTest, ACrossingIsReportedOnceUntilTheUsageIsUnderTheLevelAgain) {
  ASSERT_TRUE(watch(7, kThreshold));
  EXPECT_THAT(take_when_due(), IsEmpty());
  set_usage(kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(7u));
  // Still over: not reported again, and read only once a second.
  EXPECT_THAT(take_when_due(), IsEmpty());
  EXPECT_GE(v2_.next_due(), now_ + milliseconds(750));
  set_usage(kThreshold);  // at the level is not over it
  EXPECT_THAT(take_when_due(), IsEmpty());
  set_usage(kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(7u));
}

TEST_F(UsageWatchTest, AMovedLevelIsCheckedAtTheNextTake) {
  ASSERT_TRUE(watch(7, kThreshold));
  set_usage(kThreshold + 10 * kMiB);
  EXPECT_THAT(take_when_due(), ElementsAre(7u));
  // The daemon found the cache under the threshold: the level moves up past the rest.
  ASSERT_TRUE(v2_.move_level(7, kThreshold + 20 * kMiB, {}));
  EXPECT_LE(v2_.next_due(), now_);
  EXPECT_THAT(take(now_), IsEmpty());
  set_usage(kThreshold + 21 * kMiB);
  EXPECT_THAT(take_when_due(), ElementsAre(7u));
  // A level moved under the usage reports at once.
  ASSERT_TRUE(v2_.move_level(7, kThreshold, {}));
  EXPECT_THAT(take(now_), ElementsAre(7u));
}

TEST_F(UsageWatchTest, RenewKeepsAWatchForItsThresholdAndSweepEndsTheOthers) {
  ASSERT_TRUE(watch(7, kThreshold));
  ASSERT_TRUE(watch(5, kThreshold));
  v2_.sweep();
  EXPECT_TRUE(v2_.renew(7, kThreshold));
  EXPECT_FALSE(v2_.renew(5, kThreshold * 2));  // a changed threshold needs watch()
  v2_.sweep();
  EXPECT_EQ(v2_.size(), 1u);
  set_usage(kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(7u));  // the renewed watch
}

TEST_F(UsageWatchTest, ANewThresholdResetsTheLevelAndRearms) {
  ASSERT_TRUE(watch(7, kThreshold));
  set_usage(kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(7u));
  // The leaf's limit changed: a higher threshold, read again at once, under it now.
  ASSERT_TRUE(watch(7, 2 * kThreshold));
  EXPECT_EQ(v2_.size(), 1u);
  EXPECT_THAT(take(now_), IsEmpty());
  set_usage(2 * kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(7u));
}

TEST_F(UsageWatchTest, AnUnreadableUsageIsNeitherReportedNorReadInATightLoop) {
  ASSERT_TRUE(watch(7, kThreshold));
  tree_.write("leaf/memory.current", "garbage\n");
  EXPECT_THAT(take(now_), IsEmpty());
  EXPECT_GE(v2_.next_due(), now_ + milliseconds(750));
}

TEST_F(UsageWatchTest, ALeafThatCannotBeOpenedIsNotWatched) {
  auto st = v2_.watch(9, kThreshold, [] {
    return cgroup::IoResult<cgroup::Fd>(cgroup::IoError{ENOENT, "open", "leaf"});
  });
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().vanished());
  EXPECT_EQ(v2_.size(), 0u);
  EXPECT_EQ(v2_.next_due(), UsageWatch::TimePoint::max());
}

// v1 on a fixture tree: cgroup.event_control is a plain file here, so a registration is written
// and kept, and only the watch's own signal (a usage already over the level) can report.
class UsageWatchV1Test : public ::testing::Test {
 protected:
  UsageWatchV1Test() {
    set_usage(0);
    tree_.write("leaf/cgroup.event_control", "");
  }

  void set_usage(uint64_t bytes) {
    tree_.write("leaf/memory.usage_in_bytes", std::to_string(bytes) + "\n");
  }

  cgroup::IoStatus watch(uint64_t inode, uint64_t threshold) {
    return v1_.watch(inode, threshold, open_leaf());
  }

  UsageWatch::OpenDir open_leaf() {
    return [&] { return cgroup::open_dir_at(AT_FDCWD, (tree_.root() / "leaf").c_str()); };
  }

  std::vector<uint64_t> take() {
    std::vector<uint64_t> inodes;
    v1_.take(inodes, UsageWatch::TimePoint());
    return inodes;
  }

  // The level of the last registration: "<eventfd> <usage fd> <level>".
  uint64_t registered_level() const {
    const std::string line = tree_.read("leaf/cgroup.event_control");
    return std::stoull(line.substr(line.rfind(' ') + 1));
  }

  TempTree tree_;
  UsageWatch v1_{cgroup::Version::kV1};
};

TEST_F(UsageWatchV1Test, ARegistrationIsWrittenAtTheThresholdAndPolledThroughOneFd) {
  ASSERT_TRUE(v1_.valid());
  EXPECT_GE(v1_.fd(), 0);
  EXPECT_EQ(v1_.next_due(), UsageWatch::TimePoint::max());
  ASSERT_TRUE(watch(7, kThreshold));
  EXPECT_EQ(v1_.size(), 1u);
  EXPECT_EQ(registered_level(), kThreshold);
  EXPECT_THAT(take(), IsEmpty());
  EXPECT_EQ(v1_.next_due(), UsageWatch::TimePoint::max());
}

TEST_F(UsageWatchV1Test, AUsageAlreadyOverTheLevelWhenRegisteredIsReported) {
  set_usage(kThreshold + 1);
  ASSERT_TRUE(watch(7, kThreshold));
  EXPECT_THAT(take(), ElementsAre(7u));
  EXPECT_THAT(take(), IsEmpty());  // the signal was read
}

TEST_F(UsageWatchV1Test, AMovedLevelRegistersAnewAndChecksTheUsageAgain) {
  ASSERT_TRUE(watch(7, kThreshold));
  set_usage(kThreshold + 10 * kMiB);
  ASSERT_TRUE(v1_.move_level(7, kThreshold + 20 * kMiB, open_leaf()));
  EXPECT_EQ(registered_level(), kThreshold + 20 * kMiB);
  EXPECT_THAT(take(), IsEmpty());
  ASSERT_TRUE(v1_.move_level(7, kThreshold, open_leaf()));
  EXPECT_EQ(registered_level(), kThreshold);
  EXPECT_THAT(take(), ElementsAre(7u));
  EXPECT_EQ(v1_.size(), 1u);
  // The threshold stays what it was: a renewal for it needs no new registration.
  EXPECT_TRUE(v1_.renew(7, kThreshold));
}

TEST_F(UsageWatchV1Test, RenewKeepsAWatchForItsThresholdAndSweepEndsTheOthers) {
  ASSERT_TRUE(watch(7, kThreshold));
  ASSERT_TRUE(watch(5, kThreshold));
  v1_.sweep();
  EXPECT_TRUE(v1_.renew(7, kThreshold));
  EXPECT_FALSE(v1_.renew(5, kThreshold * 2));
  v1_.sweep();
  EXPECT_EQ(v1_.size(), 1u);
  EXPECT_FALSE(v1_.renew(5, kThreshold));
}

TEST_F(UsageWatchV1Test, ALeafWithoutThresholdFilesIsNotWatched) {
  std::filesystem::remove(tree_.root() / "leaf/cgroup.event_control");
  auto st = watch(7, kThreshold);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().describe("leaf"),
            "failed to open cgroup.event_control of leaf: No such file or directory");
  EXPECT_EQ(v1_.size(), 0u);
}

}  // namespace
}  // namespace cgmm::testing
