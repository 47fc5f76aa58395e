#include "core/tracker.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace cgmm::core {
namespace {

using std::chrono::seconds;

constexpr uint64_t kMiB = 1 << 20;

cgroup::LeafSample leaf(const std::string& name, uint64_t inode, uint64_t cache,
                        std::optional<uint64_t> limit = 100 * kMiB) {
  cgroup::LeafSample s;
  s.name = name;
  s.inode = inode;
  s.stats = cgroup::MemoryStats{cache, 0, limit};
  return s;
}

cgroup::LeafSample failing(const std::string& name, uint64_t inode) {
  cgroup::LeafSample s;
  s.name = name;
  s.inode = inode;
  s.error = cgroup::IoError{EACCES, "open", "memory.stat"};
  return s;
}

std::vector<cgroup::LeafSample> one(cgroup::LeafSample s) {
  std::vector<cgroup::LeafSample> v;
  v.push_back(std::move(s));
  return v;
}

class TrackerTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  Tracker tracker_{Policy{Threshold::percent(25), seconds(30)}, false};
};

TEST_F(TrackerTest, ReportsAppearedAndVanished) {
  std::vector<cgroup::LeafSample> both;
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
  Tracker tracker{Policy{Threshold::percent(25), seconds(30)}, true};
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

}  // namespace
}  // namespace cgmm::core
