// The cgroup v2 watch between scans: memory.current read at a pace set by the distance to the
// level, reporting each crossing once. Runs on a temp-dir memory.current and an injected time.
#include "cgroup/usage_poll.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cgroup/io.h"
#include "support/temp_tree.h"

namespace cgmm::testing {
namespace {

using cgroup::UsagePoll;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kThreshold = 64 * kMiB;

class UsagePollTest : public ::testing::Test {
 protected:
  UsagePollTest() { set_usage(0); }

  void set_usage(uint64_t bytes) {
    tree_.write("leaf/memory.current", std::to_string(bytes) + "\n");
  }

  cgroup::IoStatus watch(uint64_t key, uint64_t threshold, uint32_t slot) {
    return poll_.watch(key, threshold, slot, [&] {
      return cgroup::open_dir_at(AT_FDCWD, (tree_.root() / "leaf").c_str());
    });
  }

  // The slots reported by a take() at `now`.
  std::vector<uint32_t> take(UsagePoll::TimePoint now) {
    std::vector<cgroup::LevelWatch::Fired> fired;
    poll_.take(fired, now);
    std::vector<uint32_t> slots;
    for (const auto& f : fired) {
      slots.push_back(f.slot);
    }
    return slots;
  }

  // A take() at the moment the next read is due.
  std::vector<uint32_t> take_when_due() { return take(now_ = std::max(now_, poll_.next_due())); }

  TempTree tree_;
  UsagePoll poll_;
  UsagePoll::TimePoint now_ = UsagePoll::TimePoint() + std::chrono::hours(1);
};

TEST(UsagePollPeriod, ReadsSoonerTheCloserALeafIsToItsLevel) {
  EXPECT_EQ(UsagePoll::period(0), UsagePoll::kMinPeriod);
  EXPECT_EQ(UsagePoll::period(1 * kMiB), UsagePoll::kMinPeriod);
  EXPECT_EQ(UsagePoll::period(128 * kMiB), milliseconds(500));
  EXPECT_EQ(UsagePoll::period(256 * kMiB), UsagePoll::kMaxPeriod);
  EXPECT_EQ(UsagePoll::period(UINT64_MAX), UsagePoll::kMaxPeriod);
}

TEST_F(UsagePollTest, ANewWatchIsReadAtOnceAndThenPacedByItsHeadroom) {
  ASSERT_TRUE(watch(7, kThreshold, 3));
  EXPECT_EQ(poll_.size(), 1u);
  EXPECT_LE(poll_.next_due(), now_);
  EXPECT_THAT(take(now_), IsEmpty());
  // 64 MiB under the level at 256 MiB/s: read again in 250 ms, rounded down to a 50 ms grid.
  EXPECT_GE(poll_.next_due(), now_ + milliseconds(230));
  EXPECT_LE(poll_.next_due(), now_ + milliseconds(250));
  // Nothing is read before it is due, whatever the usage does meanwhile.
  set_usage(kThreshold + 1);
  EXPECT_THAT(take(now_ + milliseconds(100)), IsEmpty());
}

TEST_F(UsagePollTest, CacheGrowingAtTheFillRateIsSeenWithinTheMinimumPeriodOfCrossing) {
  constexpr uint64_t kBytesPerMs = UsagePoll::kFillRate / 1000;
  // 1 GiB: the pace goes through the once-a-second reads, the coarse grid and the fine one.
  constexpr uint64_t kLevel = 1024 * kMiB;
  const auto crossing_after = milliseconds(kLevel / kBytesPerMs + 1);
  // Fills starting at many phases against the read grid, from a quiet, empty leaf.
  for (int offset = 0; offset < 1500; offset += 37) {
    UsagePoll poll;
    set_usage(0);
    ASSERT_TRUE(poll.watch(1, kLevel, 0, [&] {
      return cgroup::open_dir_at(AT_FDCWD, (tree_.root() / "leaf").c_str());
    }));
    const UsagePoll::TimePoint start = now_ + milliseconds(offset);
    const UsagePoll::TimePoint crossing = start + crossing_after;
    std::vector<cgroup::LevelWatch::Fired> fired;
    UsagePoll::TimePoint t = now_;
    for (int reads = 0; fired.empty(); ++reads) {
      ASSERT_LT(reads, 1000) << "offset " << offset;
      t = std::max(t, poll.next_due());
      const auto filling = std::chrono::duration_cast<milliseconds>(t - start).count();
      set_usage(t > start ? static_cast<uint64_t>(filling) * kBytesPerMs : 0);
      poll.take(fired, t);
    }
    EXPECT_GE(t, crossing) << "offset " << offset;
    EXPECT_LE(t - crossing, UsagePoll::kMinPeriod) << "offset " << offset;
  }
}

TEST_F(UsagePollTest, ACrossingIsReportedOnceUntilTheUsageIsUnderTheLevelAgain) {
  ASSERT_TRUE(watch(7, kThreshold, 3));
  EXPECT_THAT(take_when_due(), IsEmpty());
  set_usage(kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(3u));
  // Still over: not reported again, and read only once a second.
  EXPECT_THAT(take_when_due(), IsEmpty());
  EXPECT_GE(poll_.next_due(), now_ + milliseconds(750));
  set_usage(kThreshold);  // at the level is not over it
  EXPECT_THAT(take_when_due(), IsEmpty());
  set_usage(kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(3u));
}

TEST_F(UsagePollTest, AMovedLevelIsCheckedAtTheNextTake) {
  ASSERT_TRUE(watch(7, kThreshold, 3));
  set_usage(kThreshold + 10 * kMiB);
  EXPECT_THAT(take_when_due(), ElementsAre(3u));
  // The daemon found the cache under the threshold: the level moves up past the rest.
  ASSERT_TRUE(poll_.move_level(7, kThreshold + 20 * kMiB, {}));
  EXPECT_LE(poll_.next_due(), now_);
  EXPECT_THAT(take(now_), IsEmpty());
  set_usage(kThreshold + 21 * kMiB);
  EXPECT_THAT(take_when_due(), ElementsAre(3u));
  // A level moved under the usage reports at once.
  ASSERT_TRUE(poll_.move_level(7, kThreshold, {}));
  EXPECT_THAT(take(now_), ElementsAre(3u));
}

TEST_F(UsagePollTest, RenewKeepsAWatchForItsThresholdAndSweepEndsTheOthers) {
  ASSERT_TRUE(watch(7, kThreshold, 3));
  ASSERT_TRUE(watch(5, kThreshold, 1));
  poll_.sweep();
  EXPECT_TRUE(poll_.renew(7, kThreshold, 4));
  EXPECT_FALSE(poll_.renew(5, kThreshold * 2, 1));  // a changed threshold needs watch()
  poll_.sweep();
  EXPECT_EQ(poll_.size(), 1u);
  set_usage(kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(4u));  // the renewed slot
}

TEST_F(UsagePollTest, ANewThresholdResetsTheLevelAndRearms) {
  ASSERT_TRUE(watch(7, kThreshold, 3));
  set_usage(kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(3u));
  // The leaf's limit changed: a higher threshold, read again at once, under it now.
  ASSERT_TRUE(watch(7, 2 * kThreshold, 3));
  EXPECT_EQ(poll_.size(), 1u);
  EXPECT_THAT(take(now_), IsEmpty());
  set_usage(2 * kThreshold + 1);
  EXPECT_THAT(take_when_due(), ElementsAre(3u));
}

TEST_F(UsagePollTest, AnUnreadableUsageIsNeitherReportedNorReadInATightLoop) {
  ASSERT_TRUE(watch(7, kThreshold, 3));
  tree_.write("leaf/memory.current", "garbage\n");
  EXPECT_THAT(take(now_), IsEmpty());
  EXPECT_GE(poll_.next_due(), now_ + milliseconds(750));
}

TEST_F(UsagePollTest, ALeafThatCannotBeOpenedIsNotWatched) {
  auto st = poll_.watch(9, kThreshold, 0, [] {
    return cgroup::IoResult<cgroup::Fd>(cgroup::IoError{ENOENT, "open", "leaf"});
  });
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().vanished());
  EXPECT_EQ(poll_.size(), 0u);
  EXPECT_EQ(poll_.next_due(), UsagePoll::TimePoint::max());
}

}  // namespace
}  // namespace cgmm::testing
