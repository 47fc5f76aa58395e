#include "app/telemetry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace cgmm::app {
namespace {

using namespace std::chrono_literals;
using ::testing::StartsWith;

TEST(TelemetryHealth, UnhealthyUntilTheFirstScanFinishes) {
  testing::FakeClock clock;
  Telemetry t(std::nullopt, 10s, clock);
  const obs::HttpResponse r = t.health();
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, StartsWith("starting: no scan has finished yet"));
  t.scan_finished();
  EXPECT_EQ(t.health().status, 200);
  EXPECT_EQ(t.health().body, "ok\n");
}

TEST(TelemetryHealth, UnhealthyAfterThreeIntervalsWithoutAScan) {
  testing::FakeClock clock;
  Telemetry t(std::nullopt, 10ms, clock);
  t.scan_finished();
  clock.advance(30ms);  // exactly three intervals: still on schedule
  EXPECT_EQ(t.health().status, 200);

  clock.advance(970ms);
  const obs::HttpResponse r = t.health();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "unhealthy: last scan finished 1s ago, more than three intervals\n");

  // The next scan makes it healthy again.
  t.scan_finished();
  EXPECT_EQ(t.health().status, 200);
}

TEST(TelemetryHealth, ScansOnScheduleStayHealthy) {
  testing::FakeClock clock;
  Telemetry t(std::nullopt, 1s, clock);
  for (int i = 0; i < 100; ++i) {
    t.scan_finished();
    clock.advance(2500ms);  // slow scans, but within three intervals of each other
    EXPECT_EQ(t.health().status, 200) << "after scan " << i;
  }
}

}  // namespace
}  // namespace cgmm::app
