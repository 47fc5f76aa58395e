#include "app/telemetry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/fake_clock.h"
#include "support/http_get.h"
#include "support/loopback_client.h"

namespace cgmm::app {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
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

TEST(TelemetryMetrics, WithoutAListenerThereAreNoMetrics) {
  Telemetry t(std::nullopt, 10s);
  EXPECT_FALSE(t.enabled());
  EXPECT_EQ(t.metrics(), nullptr);
}

// What a scraper gets: the exposition with its content type, leaves labelled from their names.
TEST(TelemetryMetrics, MetricsServesTheExpositionWithPodLabels) {
  const std::uint16_t port = cgmm::testing::free_loopback_port();
  Telemetry t(obs::ListenAddress{"127.0.0.1", port}, 10s);
  ASSERT_TRUE(t.enabled());
  const std::string leaf =
      "memory/kubepods/burstable/pod5f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9/"
      "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
  const std::vector<obs::LeafGauges> leaves = {{leaf, 1, 4096, {}, {}, nullptr}};
  t.metrics()->publish_scan(1ms, {}, leaves);
  t.start();
  const std::string response =
      cgmm::testing::LoopbackClient(port, 10s).request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  t.stop();
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(response,
              HasSubstr("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(response, HasSubstr("cgmm_build_info{version=\"" CGMM_VERSION "\"} 1\n"));
  EXPECT_THAT(
      response,
      HasSubstr("cgmm_leaf_cache_bytes{cgroup=\"" + leaf +
                "\",namespace=\"\",pod=\"\",container=\"\",pod_uid=\"5f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9\","
                "container_id=\"3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\","
                "qos=\"burstable\",rule=\"\"} 4096\n"));
}

}  // namespace
}  // namespace cgmm::app
