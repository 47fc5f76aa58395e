#include "core/units.h"

#include <gtest/gtest.h>

#include <limits>

namespace cgmm::core {
namespace {

using std::chrono::milliseconds;

TEST(ParseSize, PlainNumberIsBytes) {
  EXPECT_EQ(*parse_size("0"), 0u);
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size(" 4096 "), 4096u);
}

TEST(ParseSize, SiAndIecUnitsInAnyCase) {
  EXPECT_EQ(*parse_size("100KB"), 100'000u);
  EXPECT_EQ(*parse_size("100KiB"), 102'400u);
  EXPECT_EQ(*parse_size("1M"), 1'000'000u);
  EXPECT_EQ(*parse_size("1Mi"), 1'048'576u);
  EXPECT_EQ(*parse_size("1.5GiB"), 1'610'612'736u);
  EXPECT_EQ(*parse_size("2G"), 2'000'000'000u);
  EXPECT_EQ(*parse_size("512 mib"), 536'870'912u);
  EXPECT_EQ(*parse_size("1k"), 1000u);
  EXPECT_EQ(*parse_size("10b"), 10u);
  EXPECT_EQ(*parse_size("1Ti"), 1ULL << 40);
  EXPECT_EQ(*parse_size("1EiB"), 1ULL << 60);
  EXPECT_EQ(*parse_size(".5Ki"), 512u);
}

TEST(ParseSize, LargestValueFits) {
  EXPECT_EQ(*parse_size("18446744073709551615"), std::numeric_limits<uint64_t>::max());
}

TEST(ParseSize, ErrorsQuoteTheValue) {
  for (const char* bad : {"", "   ", "-1", "-5MiB", "abc", "12XB", "1.2.3", "MiB", "1 2",
                          "18446744073709551616", "16EiB", "99999999999999999999999"}) {
    auto r = parse_size(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok() && *bad != '\0' && std::string(bad).find_first_not_of(' ') != std::string::npos) {
      EXPECT_NE(r.error().find(std::string("\"") + bad + "\""), std::string::npos)
          << "message does not quote the value: " << r.error();
    }
  }
  EXPECT_NE(parse_size("12XB").error().find("unknown unit \"XB\""), std::string::npos);
  EXPECT_NE(parse_size("-1").error().find("negative"), std::string::npos);
  EXPECT_NE(parse_size("16EiB").error().find("too large"), std::string::npos);
}

TEST(ParseDuration, PlainNumberIsSeconds) {
  EXPECT_EQ(*parse_duration("10"), milliseconds(10'000));
  EXPECT_EQ(*parse_duration("0"), milliseconds(0));
  EXPECT_EQ(*parse_duration("0.25"), milliseconds(250));
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(*parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(*parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(*parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(*parse_duration("1 H"), milliseconds(3'600'000));
  EXPECT_EQ(*parse_duration("3min"), milliseconds(180'000));
}

TEST(ParseDuration, Errors) {
  for (const char* bad :
       {"", "-1", "-2s", "abc", "5x", "1d", "1.s.2", "s", "99999999999999999999h"}) {
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  }
  EXPECT_NE(parse_duration("5x").error().find("\"5x\""), std::string::npos);
}

TEST(ParseThreshold, Percentages) {
  auto t = parse_threshold("25%");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->is_percent());
  EXPECT_EQ(t->bytes_for(1000), 250u);
  EXPECT_EQ(parse_threshold("12.5%")->bytes_for(1000), 125u);
  EXPECT_EQ(parse_threshold("100%")->bytes_for(1000), 1000u);
  EXPECT_EQ(parse_threshold("0.001%")->bytes_for(100'000'000), 1000u);
  EXPECT_EQ(parse_threshold(" 50 % ")->bytes_for(10), 5u);
}

TEST(ParseThreshold, PercentagesPrintAsTyped) {
  for (const char* typed : {"25%", "12.5%", "100%", "0.000001%", "33.333333%"}) {
    EXPECT_EQ(parse_threshold(typed)->to_string(), typed);
  }
}

TEST(ParseThreshold, PercentageOfNoLimitIsNoLevel) {
  EXPECT_FALSE(parse_threshold("25%")->bytes_for(std::nullopt).has_value());
}

TEST(ParseThreshold, SizesApplyWithOrWithoutLimit) {
  auto t = parse_threshold("512MiB");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->is_percent());
  EXPECT_EQ(t->bytes_for(std::nullopt), 536'870'912u);
  EXPECT_EQ(t->bytes_for(1024), 536'870'912u);
}

TEST(ParseThreshold, Errors) {
  for (const char* bad : {"", "%", "abc%", "150%", "100.0001%", "0%", "0.0%", "-5%", "5%%", "1e3%",
                          "0", "0MiB", "-1G", "12XB"}) {
    auto r = parse_threshold(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_NE(parse_threshold("150%").error().find("\"150%\""), std::string::npos);
  EXPECT_NE(parse_threshold("abc%").error().find("\"abc%\""), std::string::npos);
}

TEST(TargetBelowThreshold, ComparesOnlyLikeWithLike) {
  EXPECT_TRUE(target_below_threshold(Threshold::percent(50), Threshold::percent(80)));
  EXPECT_FALSE(target_below_threshold(Threshold::percent(80), Threshold::percent(80)));
  EXPECT_FALSE(target_below_threshold(Threshold::percent(90), Threshold::percent(80)));
  EXPECT_TRUE(target_below_threshold(Threshold::percent(79.999999), Threshold::percent(80)));
  EXPECT_TRUE(target_below_threshold(Threshold::bytes(1), Threshold::bytes(2)));
  EXPECT_FALSE(target_below_threshold(Threshold::bytes(2), Threshold::bytes(2)));
  // A percentage and a size are compared per cgroup, against its limit.
  EXPECT_TRUE(target_below_threshold(Threshold::percent(99), Threshold::bytes(1)));
  EXPECT_TRUE(target_below_threshold(Threshold::bytes(1ULL << 40), Threshold::percent(1)));
}

TEST(Format, BytesForPeople) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(100ULL << 20), "100.0 MiB");
  EXPECT_EQ(format_bytes(3ULL << 30), "3.0 GiB");
}

TEST(Format, DurationsForPeople) {
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration(milliseconds(30'000)), "30s");
  EXPECT_EQ(format_duration(milliseconds(150'000)), "2m30s");
  EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
}

}  // namespace
}  // namespace cgmm::core
