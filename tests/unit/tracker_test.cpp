#include "core/tracker.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace cgmm::core {
namespace {

using std::chrono::seconds;

constexpr uint64_t kMiB = 1 << 20;

// `name` outlives the sample: a literal.
core::LeafSample leaf(std::string_view name, uint64_t inode, uint64_t cache,
                      std::optional<uint64_t> limit = 100 * kMiB) {
  core::LeafSample s;
  s.name = name;
  s.inode = inode;
  s.stats = core::MemoryStats{cache, 0, limit};
  return s;
}

core::LeafSample failing(std::string_view name, uint64_t inode) {
  core::LeafSample s;
  s.name = name;
  s.inode = inode;
  s.error = "failed to open memory.stat of " + std::string(name) + ": Permission denied";
  return s;
}

std::vector<core::LeafSample> one(core::LeafSample s) {
  std::vector<core::LeafSample> v;
  v.push_back(std::move(s));
  return v;
}

class TrackerTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  Tracker tracker_{Policy{}, false};
};

TEST_F(TrackerTest, ReportsAppearedAndVanished) {
  std::vector<core::LeafSample> both;
  both.push_back(leaf("p/a", 1, 0));
  both.push_back(leaf("p/b", 2, 0));
  TickResult r = tracker_.observe(both, clock_.now());
  EXPECT_EQ(r.appeared, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(tracker_.size(), 2u);

  r = tracker_.observe(one(leaf("p/b", 2, 0)), clock_.now());
  EXPECT_TRUE(r.appeared.empty());
  EXPECT_EQ(r.vanished, std::vector<std::string>{"p/a"});
  EXPECT_EQ(tracker_.size(), 1u);
}

TEST_F(TrackerTest, SameNameNewInodeIsANewCgroup) {
  tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now());  // reclaim starts
  TickResult r = tracker_.observe(one(leaf("p/a", 7, 50 * kMiB)), clock_.now());
  EXPECT_EQ(r.vanished, std::vector<std::string>{"p/a"});
  EXPECT_EQ(r.appeared, std::vector<size_t>{0});
  // The new cgroup has no history: no cooldown, nothing in flight.
  EXPECT_EQ(r.decisions[0].action, Action::kReclaim);
}

TEST_F(TrackerTest, FirstReclaimAtOnceThenCooldownThenAgain) {
  TickResult r = tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now());
  EXPECT_EQ(r.decisions[0].action, Action::kReclaim);
  tracker_.reclaim_finished("p/a", 1);

  clock_.advance(seconds(10));
  r = tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now());
  EXPECT_EQ(r.decisions[0].reason, Reason::kCooldown);

  clock_.advance(seconds(20));
  r = tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now());
  EXPECT_EQ(r.decisions[0].action, Action::kReclaim);
}

TEST_F(TrackerTest, InFlightUntilFinished) {
  tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now());
  clock_.advance(seconds(60));
  TickResult r = tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now());
  EXPECT_EQ(r.decisions[0].reason, Reason::kInFlight);

  tracker_.reclaim_finished("p/a", 99);  // another incarnation's reclaim: ignored
  r = tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now());
  EXPECT_EQ(r.decisions[0].reason, Reason::kInFlight);

  tracker_.reclaim_finished("p/a", 1);
  r = tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now());
  EXPECT_EQ(r.decisions[0].action, Action::kReclaim);
}

TEST(TrackerDryRun, CooldownHoldsButNothingIsInFlight) {
  testing::FakeClock clock;
  Tracker tracker{Policy{}, true};
  EXPECT_EQ(tracker.observe(one(leaf("p/a", 1, 50 * kMiB)), clock.now()).decisions[0].action,
            Action::kReclaim);
  clock.advance(seconds(5));
  EXPECT_EQ(tracker.observe(one(leaf("p/a", 1, 50 * kMiB)), clock.now()).decisions[0].reason,
            Reason::kCooldown);
  clock.advance(seconds(30));
  EXPECT_EQ(tracker.observe(one(leaf("p/a", 1, 50 * kMiB)), clock.now()).decisions[0].action,
            Action::kReclaim);
}

TEST_F(TrackerTest, ErrorsAreReportedOncePerStreak) {
  TickResult r = tracker_.observe(one(failing("p/a", 1)), clock_.now());
  EXPECT_EQ(r.error_started, std::vector<size_t>{0});
  EXPECT_EQ(r.decisions[0].action, Action::kNone);
  r = tracker_.observe(one(failing("p/a", 1)), clock_.now());
  EXPECT_TRUE(r.error_started.empty());
  r = tracker_.observe(one(leaf("p/a", 1, 0)), clock_.now());
  EXPECT_EQ(r.error_cleared, std::vector<size_t>{0});
  r = tracker_.observe(one(failing("p/a", 1)), clock_.now());
  EXPECT_EQ(r.error_started, std::vector<size_t>{0});
}

// A finished v1 reclaim of leaf p/a (inode 1): the whole cache before was the target.
ReclaimOutcome finished(uint64_t before, uint64_t after, uint64_t shmem = 0,
                        ReclaimOutcome::Result result = ReclaimOutcome::Result::kDone) {
  ReclaimOutcome o;
  o.name = "p/a";
  o.inode = 1;
  o.result = result;
  o.cache_before_bytes = before;
  o.cache_after_bytes = after;
  o.shmem_after_bytes = shmem;
  o.target_bytes = before;
  return o;
}

// Reclaims p/a (cache 50 MiB of a 100 MiB limit) as soon as the tracker allows, advancing the
// clock one second at a time; the seconds waited since the previous reclaim.
int64_t wait_and_reclaim(Tracker& tracker, testing::FakeClock& clock) {
  for (int64_t waited = 0; waited < 100000; ++waited) {
    TickResult r = tracker.observe(one(leaf("p/a", 1, 50 * kMiB)), clock.now());
    if (r.decisions[0].action == Action::kReclaim) {
      return waited;
    }
    clock.advance(seconds(1));
  }
  return -1;
}

TEST_F(TrackerTest, FutileReclaimsBackOffExponentiallyUpToTheCap) {
  ASSERT_EQ(wait_and_reclaim(tracker_, clock_), 0);
  BackoffChange b = tracker_.reclaim_finished(finished(50 * kMiB, 48 * kMiB, 48 * kMiB));
  EXPECT_EQ(b.kind, BackoffChange::Kind::kStarted);
  EXPECT_EQ(b.wait, seconds(60));

  // The decision in between names the backoff, not the cooldown.
  clock_.advance(seconds(40));
  EXPECT_EQ(tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now()).decisions[0].reason,
            Reason::kBackoff);
  EXPECT_EQ(wait_and_reclaim(tracker_, clock_), 20);  // 60 s after the first

  const BackoffChange::Kind kLonger = BackoffChange::Kind::kLonger;
  std::vector<int64_t> waits;
  for (int i = 0; i < 5; ++i) {
    b = tracker_.reclaim_finished(finished(50 * kMiB, 49 * kMiB, 48 * kMiB));
    EXPECT_EQ(b.kind, kLonger);
    waits.push_back(wait_and_reclaim(tracker_, clock_));
  }
  EXPECT_EQ(waits, (std::vector<int64_t>{120, 240, 480, 480, 480}));
}

TEST_F(TrackerTest, AWorkingReclaimEndsTheBackoff) {
  wait_and_reclaim(tracker_, clock_);
  tracker_.reclaim_finished(finished(50 * kMiB, 50 * kMiB, 50 * kMiB));
  ASSERT_EQ(wait_and_reclaim(tracker_, clock_), 60);
  tracker_.reclaim_finished(finished(50 * kMiB, 50 * kMiB, 50 * kMiB));
  ASSERT_EQ(wait_and_reclaim(tracker_, clock_), 120);

  // It freed 40 MiB: whether it helped is known once its refaults are judged, a cooldown later.
  BackoffChange b = tracker_.reclaim_finished(finished(50 * kMiB, 10 * kMiB, 8 * kMiB));
  EXPECT_EQ(b.kind, BackoffChange::Kind::kNone);
  EXPECT_EQ(wait_and_reclaim(tracker_, clock_), 30);
  const std::vector<RefaultNews> news = tracker_.take_refaults();
  ASSERT_EQ(news.size(), 1u);
  ASSERT_TRUE(news[0].judged);
  EXPECT_FALSE(news[0].judged->harmful);
  EXPECT_EQ(news[0].judged->change.kind, BackoffChange::Kind::kEnded);
  EXPECT_EQ(news[0].judged->change.wait, seconds(30));
  // A later futile one starts a new streak: logged once again.
  b = tracker_.reclaim_finished(finished(50 * kMiB, 50 * kMiB, 50 * kMiB));
  EXPECT_EQ(b.kind, BackoffChange::Kind::kStarted);
}

TEST_F(TrackerTest, AWorkingReclaimWithoutBackoffChangesNothing) {
  wait_and_reclaim(tracker_, clock_);
  BackoffChange b = tracker_.reclaim_finished(finished(50 * kMiB, 0));
  EXPECT_EQ(b.kind, BackoffChange::Kind::kNone);
  EXPECT_EQ(wait_and_reclaim(tracker_, clock_), 30);
}

// p/a with 50 MiB of cache and `refaulted` MiB on its refault counter.
core::LeafSample refaulting(uint64_t refaulted) {
  core::LeafSample s = leaf("p/a", 1, 50 * kMiB);
  s.stats->refault_bytes = refaulted * kMiB;
  return s;
}

// Reclaims p/a, whose refault counter stands at 100 MiB, and finishes the reclaim having freed
// `freed` MiB.
void reclaim_freeing(Tracker& tracker, testing::FakeClock& clock, uint64_t freed) {
  ASSERT_EQ(tracker.observe(one(refaulting(100)), clock.now()).decisions[0].action,
            Action::kReclaim);
  tracker.reclaim_finished(finished(50 * kMiB, (50 - freed) * kMiB));
}

TEST_F(TrackerTest, AReclaimWhoseCacheComesBackIsHarmfulAndBacksOffAsHotCache) {
  reclaim_freeing(tracker_, clock_, 40);
  // 10 MiB back after 2 s: not yet half. 25 MiB after 5 s: harmful, judged at once.
  clock_.advance(seconds(2));
  tracker_.observe(one(refaulting(110)), clock_.now());
  std::vector<RefaultNews> news = tracker_.take_refaults();
  ASSERT_EQ(news.size(), 1u);
  EXPECT_EQ(news[0].added_bytes, 10 * kMiB);
  EXPECT_FALSE(news[0].judged);
  clock_.advance(seconds(3));
  tracker_.observe(one(refaulting(125)), clock_.now());
  news = tracker_.take_refaults();
  ASSERT_EQ(news.size(), 1u);
  EXPECT_EQ(news[0].added_bytes, 15 * kMiB);
  ASSERT_TRUE(news[0].judged);
  EXPECT_TRUE(news[0].judged->harmful);
  EXPECT_EQ(news[0].judged->freed_bytes, 40 * kMiB);
  EXPECT_EQ(news[0].judged->refaulted_bytes, 25 * kMiB);
  EXPECT_EQ(news[0].judged->within, seconds(5));
  EXPECT_EQ(news[0].judged->change.kind, BackoffChange::Kind::kStarted);
  EXPECT_TRUE(news[0].judged->change.hot_cache);
  EXPECT_EQ(news[0].judged->change.wait, seconds(60));

  // Held back as hot cache, and counted on until the next decision, up to what was freed.
  clock_.advance(seconds(35));
  EXPECT_EQ(tracker_.observe(one(refaulting(190)), clock_.now()).decisions[0].reason,
            Reason::kHotCache);
  news = tracker_.take_refaults();
  ASSERT_EQ(news.size(), 1u);
  EXPECT_EQ(news[0].added_bytes, 15 * kMiB);  // 40 of 90 MiB: the cap
  EXPECT_FALSE(news[0].judged);
  EXPECT_EQ(wait_and_reclaim(tracker_, clock_), 20);  // 60 s after the first
  EXPECT_TRUE(tracker_.take_refaults().empty());

  // Harmful again: a longer wait, logged as such.
  tracker_.reclaim_finished(finished(50 * kMiB, 10 * kMiB));
  clock_.advance(seconds(1));
  tracker_.observe(one(refaulting(290)), clock_.now());
  news = tracker_.take_refaults();
  ASSERT_EQ(news.size(), 1u);
  ASSERT_TRUE(news[0].judged);
  EXPECT_EQ(news[0].judged->change.kind, BackoffChange::Kind::kLonger);
  EXPECT_EQ(news[0].judged->change.wait, seconds(120));
}

TEST_F(TrackerTest, AReclaimWhoseCacheStaysAwayEndsAHotCacheBackoff) {
  reclaim_freeing(tracker_, clock_, 40);
  clock_.advance(seconds(1));
  tracker_.observe(one(refaulting(140)), clock_.now());  // all of it back: harmful
  ASSERT_EQ(tracker_.take_refaults().size(), 1u);
  clock_.advance(seconds(59));
  reclaim_freeing(tracker_, clock_, 40);
  // 19 MiB back within the cooldown: under half.
  clock_.advance(seconds(29));
  tracker_.observe(one(refaulting(119)), clock_.now());
  EXPECT_FALSE(tracker_.take_refaults()[0].judged);
  clock_.advance(seconds(1));
  const TickResult r = tracker_.observe(one(refaulting(119)), clock_.now());
  EXPECT_EQ(r.decisions[0].action, Action::kReclaim);  // the plain cooldown again
  const std::vector<RefaultNews> news = tracker_.take_refaults();
  ASSERT_EQ(news.size(), 1u);
  ASSERT_TRUE(news[0].judged);
  EXPECT_FALSE(news[0].judged->harmful);
  EXPECT_EQ(news[0].judged->change.kind, BackoffChange::Kind::kEnded);
}

TEST_F(TrackerTest, WithoutRefaultBackoffAHarmfulReclaimIsJudgedButNotBackedOff) {
  Policy policy;
  policy.refault_backoff = false;
  Tracker tracker(policy, false);
  reclaim_freeing(tracker, clock_, 40);
  clock_.advance(seconds(1));
  tracker.observe(one(refaulting(140)), clock_.now());
  const std::vector<RefaultNews> news = tracker.take_refaults();
  ASSERT_EQ(news.size(), 1u);
  ASSERT_TRUE(news[0].judged);
  EXPECT_TRUE(news[0].judged->harmful);
  EXPECT_EQ(news[0].judged->change.kind, BackoffChange::Kind::kNone);
  EXPECT_EQ(news[0].judged->next_in, seconds(29));
  EXPECT_EQ(wait_and_reclaim(tracker, clock_), 29);
}

TEST_F(TrackerTest, WithoutRefaultBackoffAHarmfulReclaimDoesNotEndAFutileBackoff) {
  Policy policy;
  policy.refault_backoff = false;
  Tracker tracker(policy, false);
  ASSERT_EQ(tracker.observe(one(refaulting(100)), clock_.now()).decisions[0].action,
            Action::kReclaim);
  // Freed 1 of 50 MiB: futile, two cooldowns to wait.
  EXPECT_EQ(tracker.reclaim_finished(finished(50 * kMiB, 49 * kMiB)).kind,
            BackoffChange::Kind::kStarted);
  clock_.advance(seconds(60));
  reclaim_freeing(tracker, clock_, 40);
  clock_.advance(seconds(1));
  tracker.observe(one(refaulting(140)), clock_.now());  // all of it back: harmful
  const std::vector<RefaultNews> news = tracker.take_refaults();
  ASSERT_EQ(news.size(), 1u);
  ASSERT_TRUE(news[0].judged);
  EXPECT_TRUE(news[0].judged->harmful);
  EXPECT_EQ(news[0].judged->change.kind, BackoffChange::Kind::kNone);
  EXPECT_EQ(news[0].judged->change.streak, 1u);
  EXPECT_EQ(wait_and_reclaim(tracker, clock_), 59);  // still two cooldowns
}

TEST_F(TrackerTest, NoRefaultsAreFollowedInADryRunOrAfterAReclaimThatFreedNothing) {
  Tracker dry(Policy{}, true);
  ASSERT_EQ(dry.observe(one(refaulting(100)), clock_.now()).decisions[0].action, Action::kReclaim);
  clock_.advance(seconds(1));
  dry.observe(one(refaulting(200)), clock_.now());
  EXPECT_TRUE(dry.take_refaults().empty());

  reclaim_freeing(tracker_, clock_, 0);
  clock_.advance(seconds(1));
  tracker_.observe(one(refaulting(200)), clock_.now());
  EXPECT_TRUE(tracker_.take_refaults().empty());
}

TEST_F(TrackerTest, FailedVanishedOrUnreadReclaimsLeaveTheBackoffAlone) {
  using R = ReclaimOutcome::Result;
  wait_and_reclaim(tracker_, clock_);
  tracker_.reclaim_finished(finished(50 * kMiB, 50 * kMiB, 50 * kMiB));  // streak 1
  for (R result : {R::kFailed, R::kVanished, R::kInterrupted}) {
    wait_and_reclaim(tracker_, clock_);
    ReclaimOutcome o = finished(50 * kMiB, 0, 0, result);
    EXPECT_EQ(tracker_.reclaim_finished(o).kind, BackoffChange::Kind::kNone);
  }
  wait_and_reclaim(tracker_, clock_);
  ReclaimOutcome unread = finished(50 * kMiB, 0);
  unread.cache_after_bytes.reset();
  EXPECT_EQ(tracker_.reclaim_finished(unread).kind, BackoffChange::Kind::kNone);
  EXPECT_EQ(wait_and_reclaim(tracker_, clock_), 60);  // still one futile reclaim in the streak
}

TEST_F(TrackerTest, OutcomeOfAnotherIncarnationIsIgnored) {
  wait_and_reclaim(tracker_, clock_);
  ReclaimOutcome o = finished(50 * kMiB, 50 * kMiB, 50 * kMiB);
  o.inode = 99;
  EXPECT_EQ(tracker_.reclaim_finished(o).kind, BackoffChange::Kind::kNone);
  clock_.advance(seconds(3600));
  EXPECT_EQ(tracker_.observe(one(leaf("p/a", 1, 50 * kMiB)), clock_.now()).decisions[0].reason,
            Reason::kInFlight);
}

TEST_F(TrackerTest, ANewIncarnationStartsWithoutBackoff) {
  wait_and_reclaim(tracker_, clock_);
  tracker_.reclaim_finished(finished(50 * kMiB, 50 * kMiB, 50 * kMiB));
  TickResult r = tracker_.observe(one(leaf("p/a", 2, 50 * kMiB)), clock_.now());
  EXPECT_EQ(r.decisions[0].action, Action::kReclaim);
}

}  // namespace
}  // namespace cgmm::core
