#include "core/decide.h"

#include <gtest/gtest.h>

#include "core/reclaim_outcome.h"
#include "support/fake_clock.h"

namespace cgmm::core {
namespace {

using std::chrono::seconds;

constexpr uint64_t kMiB = 1 << 20;

core::MemoryStats stats(uint64_t cache, std::optional<uint64_t> limit) {
  core::MemoryStats s;
  s.cache_bytes = cache;
  s.limit_bytes = limit;
  return s;
}

Policy policy(Threshold t = Threshold::percent(25), Duration cooldown = seconds(30)) {
  Policy p;
  p.threshold = t;
  p.cooldown = cooldown;
  return p;
}

class DecideTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
};

TEST_F(DecideTest, OverThresholdWithNoHistoryReclaimsAtOnce) {
  Decision d = decide(stats(30 * kMiB, 100 * kMiB), policy(), {}, clock_.now());
  EXPECT_EQ(d.action, Action::kReclaim);
  EXPECT_EQ(d.reason, Reason::kOverThreshold);
  EXPECT_EQ(d.threshold_bytes, 25 * kMiB);
}

TEST_F(DecideTest, ThresholdBoundaryIsNotOver) {
  EXPECT_EQ(decide(stats(25 * kMiB, 100 * kMiB), policy(), {}, clock_.now()).action, Action::kNone);
  EXPECT_EQ(decide(stats(25 * kMiB + 1, 100 * kMiB), policy(), {}, clock_.now()).action,
            Action::kReclaim);
}

TEST_F(DecideTest, BelowThreshold) {
  Decision d = decide(stats(kMiB, 100 * kMiB), policy(), {}, clock_.now());
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kBelowThreshold);
}

TEST_F(DecideTest, PercentageWithoutLimitNeverReclaims) {
  Decision d = decide(stats(900 * kMiB, std::nullopt), policy(), {}, clock_.now());
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kNoLimit);
  EXPECT_FALSE(d.threshold_bytes.has_value());
}

TEST_F(DecideTest, SizeThresholdAppliesWithoutLimit) {
  Decision d = decide(stats(900 * kMiB, std::nullopt), policy(Threshold::bytes(512 * kMiB)), {},
                      clock_.now());
  EXPECT_EQ(d.action, Action::kReclaim);
}

TEST_F(DecideTest, CooldownHoldsUntilItHasPassed) {
  LeafState state;
  state.last_reclaim = clock_.now();
  clock_.advance(seconds(29));
  Decision d = decide(stats(50 * kMiB, 100 * kMiB), policy(), state, clock_.now());
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kCooldown);

  clock_.advance(seconds(1));
  EXPECT_EQ(decide(stats(50 * kMiB, 100 * kMiB), policy(), state, clock_.now()).action,
            Action::kReclaim);
}

TEST_F(DecideTest, ZeroCooldownReclaimsEveryTime) {
  LeafState state;
  state.last_reclaim = clock_.now();
  EXPECT_EQ(decide(stats(50 * kMiB, 100 * kMiB), policy(Threshold::percent(25), seconds(0)), state,
                   clock_.now())
                .action,
            Action::kReclaim);
}

TEST_F(DecideTest, NeverTwoReclaimsInFlight) {
  LeafState state;
  state.in_flight = true;
  state.last_reclaim = clock_.now() - seconds(3600);
  Decision d = decide(stats(50 * kMiB, 100 * kMiB), policy(), state, clock_.now());
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kInFlight);
}

TEST_F(DecideTest, ExcludeShmemCountsOnlyReclaimableCache) {
  core::MemoryStats s = stats(60 * kMiB, 100 * kMiB);
  s.shmem_bytes = 50 * kMiB;
  Policy p = policy();
  EXPECT_EQ(decide(s, p, {}, clock_.now()).action, Action::kReclaim);
  p.exclude_shmem = true;
  Decision d = decide(s, p, {}, clock_.now());
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kBelowThreshold);
  s.shmem_bytes = 30 * kMiB;  // 30 MiB reclaimable, over 25 MiB
  EXPECT_EQ(decide(s, p, {}, clock_.now()).action, Action::kReclaim);
}

TEST_F(DecideTest, ShmemLargerThanCacheCountsAsNothing) {
  core::MemoryStats s = stats(10 * kMiB, 100 * kMiB);
  s.shmem_bytes = 20 * kMiB;  // read at different instants: tolerated
  Policy p = policy(Threshold::bytes(1));
  p.exclude_shmem = true;
  EXPECT_EQ(counted_cache_bytes(s, p), 0u);
  EXPECT_EQ(decide(s, p, {}, clock_.now()).action, Action::kNone);
}

TEST_F(DecideTest, FutileMeansUnderATenthOfTheTarget) {
  EXPECT_TRUE(futile_reclaim(0, 100 * kMiB));
  EXPECT_TRUE(futile_reclaim(10 * kMiB - 1, 100 * kMiB));
  EXPECT_FALSE(futile_reclaim(10 * kMiB, 100 * kMiB));
  EXPECT_FALSE(futile_reclaim(0, 0));  // nothing was asked
}

TEST_F(DecideTest, BackoffDoublesTheCooldownUpToSixteenTimes) {
  EXPECT_EQ(backoff_factor(0), 1u);
  EXPECT_EQ(backoff_factor(1), 2u);
  EXPECT_EQ(backoff_factor(2), 4u);
  EXPECT_EQ(backoff_factor(3), 8u);
  EXPECT_EQ(backoff_factor(4), 16u);
  EXPECT_EQ(backoff_factor(40), 16u);
}

TEST_F(DecideTest, BackoffHoldsLongerThanTheCooldownAndSaysSo) {
  LeafState state;
  state.last_reclaim = clock_.now();
  state.backoff_streak = 2;  // four cooldowns: 120 s
  clock_.advance(seconds(45));
  Decision d = decide(stats(50 * kMiB, 100 * kMiB), policy(), state, clock_.now());
  EXPECT_EQ(d.action, Action::kNone);
  EXPECT_EQ(d.reason, Reason::kBackoff);
  EXPECT_STREQ(to_string(d.reason), "backoff");
  clock_.advance(seconds(74));
  EXPECT_EQ(decide(stats(50 * kMiB, 100 * kMiB), policy(), state, clock_.now()).reason,
            Reason::kBackoff);
  clock_.advance(seconds(1));
  EXPECT_EQ(decide(stats(50 * kMiB, 100 * kMiB), policy(), state, clock_.now()).action,
            Action::kReclaim);
}

TEST_F(DecideTest, BelowThresholdWinsOverBackoff) {
  LeafState state;
  state.last_reclaim = clock_.now();
  state.backoff_streak = 3;
  EXPECT_EQ(decide(stats(kMiB, 100 * kMiB), policy(), state, clock_.now()).reason,
            Reason::kBelowThreshold);
}

}  // namespace
}  // namespace cgmm::core

namespace cgmm::core {
namespace {

TEST(ReclaimStep, HalfOfWhatRemainsThenTheRestAtOnce) {
  EXPECT_EQ(reclaim_step_bytes(150 * 1048576ull), 75 * 1048576ull);
  EXPECT_EQ(reclaim_step_bytes(kWholeStepBytes), kWholeStepBytes);
  EXPECT_EQ(reclaim_step_bytes(4096), 4096u);
  // 150 MiB is asked in steps that end well within kMaxReclaimSteps.
  uint64_t remaining = 150 * 1048576ull;
  uint32_t steps = 0;
  while (remaining > 0) {
    remaining -= reclaim_step_bytes(remaining);
    ++steps;
  }
  EXPECT_LE(steps, 10u);
  EXPECT_LT(steps, kMaxReclaimSteps);
}

}  // namespace
}  // namespace cgmm::core
