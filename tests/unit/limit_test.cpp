// The tighter of two limits, and how a limit's kind is written.
#include "core/limit.h"

#include <gtest/gtest.h>

namespace cgmm::core {
namespace {

constexpr Limit kNone{};
constexpr Limit max(uint64_t bytes) {
  return {bytes, LimitKind::kMax};
}
constexpr Limit high(uint64_t bytes) {
  return {bytes, LimitKind::kHigh};
}

TEST(Limit, TheSmallerBytesWin) {
  EXPECT_EQ(tighter(max(500), high(200)), high(200));
  EXPECT_EQ(tighter(high(200), max(500)), high(200));
  EXPECT_EQ(tighter(high(600), max(500)), max(500));
  EXPECT_EQ(tighter(max(300), max(400)), max(300));
}

TEST(Limit, NoneIsLooserThanAny) {
  EXPECT_EQ(tighter(kNone, high(200)), high(200));
  EXPECT_EQ(tighter(max(500), kNone), max(500));
  EXPECT_EQ(tighter(kNone, kNone), kNone);
  // A kind without bytes is no limit, whatever it says.
  EXPECT_EQ(tighter(Limit{std::nullopt, LimitKind::kHigh}, kNone), kNone);
}

TEST(Limit, ATieIsTheHardLimit) {
  EXPECT_EQ(tighter(high(400), max(400)), max(400));
  EXPECT_EQ(tighter(max(400), high(400)), max(400));
  EXPECT_EQ(tighter(high(400), high(400)), high(400));
}

TEST(Limit, KindsAreWrittenAsTheirFiles) {
  EXPECT_STREQ(to_string(LimitKind::kMax), "max");
  EXPECT_STREQ(to_string(LimitKind::kHigh), "high");
}

}  // namespace
}  // namespace cgmm::core
