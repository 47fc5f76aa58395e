// The --once report as a person reads it (the table) and as a program reads it (the JSON).
#include "obs/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace cgmm::obs {
namespace {

using namespace std::chrono_literals;
using core::Action;
using core::Decision;
using core::Reason;
using core::ReclaimOutcome;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;
constexpr const char* kUid = "6c1f0b2a-8d3e-4f5a-9b7c-1e2d3f4a5b6c";
constexpr const char* kId = "91d0c4e8a2f60123456789abcdef0123456789abcdef0123456789abcdef0123";

ReportRow row(std::string name, std::optional<core::MemoryStats> stats, Decision decision) {
  ReportRow r;
  r.name = std::move(name);
  r.stats = stats;
  r.decision = decision;
  return r;
}

ReportRow container(uint64_t cache, std::optional<uint64_t> limit, Decision decision) {
  ReportRow r = row(std::string("kubepods/burstable/pod") + kUid + "/" + kId,
                    core::MemoryStats{cache, 0, limit}, decision);
  r.display = std::string("pod ") + kUid + " container 91d0c4e8a2f6";
  r.pod_uid = kUid;
  r.container_id = kId;
  r.qos = "burstable";
  return r;
}

ReclaimOutcome outcome(ReclaimOutcome::Result result, uint64_t before,
                       std::optional<uint64_t> after, core::Duration took, std::string error = "") {
  ReclaimOutcome o;
  o.result = result;
  o.cache_before_bytes = before;
  o.cache_after_bytes = after;
  o.target_bytes = before;
  o.took = took;
  o.error = std::move(error);
  return o;
}

const Decision kBelow = {Action::kNone, Reason::kBelowThreshold, 64 * kMiB, std::nullopt};
const Decision kNoLimit = {Action::kNone, Reason::kNoLimit, std::nullopt, std::nullopt};
const Decision kCooldown = {Action::kNone, Reason::kCooldown, 32 * kMiB, std::nullopt};
const Decision kRunning = {Action::kNone, Reason::kInFlight, 32 * kMiB, std::nullopt};
const Decision kOver = {Action::kReclaim, Reason::kOverThreshold, 32 * kMiB, std::nullopt};

std::string table(const std::vector<ReportRow>& rows, bool dry_run) {
  std::ostringstream out;
  print_table(out, rows, dry_run);
  return out.str();
}

std::string json_text(const std::vector<ReportRow>& rows, bool dry_run) {
  std::ostringstream out;
  print_json(out, rows, dry_run);
  return out.str();
}

TEST(ReportTable, DryRunColumnsAreAlignedWithHumanSizes) {
  const std::vector<ReportRow> rows = {
      container(8 * kMiB + 100 * kKiB, 256 * kMiB, kBelow),
      row("docker/web", core::MemoryStats{40 * kMiB, 0, 128 * kMiB}, kOver),
      row("docker/batch", core::MemoryStats{40 * kMiB, 0, std::nullopt}, kNoLimit),
  };
  EXPECT_EQ(table(rows, true),
            "NAME                                                                CACHE      LIMIT  "
            "KIND  THRESHOLD  CACHE/LIMIT  REFAULTED  ACTION\n"
            "pod 6c1f0b2a-8d3e-4f5a-9b7c-1e2d3f4a5b6c container 91d0c4e8a2f6   8.1 MiB  256.0 MiB"
            "  max    64.0 MiB         3.2%        0 B  below threshold\n"
            "docker/web                                                       40.0 MiB  128.0 MiB"
            "  max    32.0 MiB        31.2%        0 B  would reclaim\n"
            "docker/batch                                                     40.0 MiB       none"
            "  -             -            -        0 B  no limit\n");
}

TEST(ReportTable, NamesAndRulesGetColumnsWhenAnyLeafHasThem) {
  ReportRow named = container(8 * kMiB, 256 * kMiB, kBelow);
  named.namespace_name = "db-prod";
  named.pod = "postgres-0";
  named.container = "postgres";
  named.rule = "databases";
  const std::vector<ReportRow> rows = {
      named,
      row("docker/web", core::MemoryStats{40 * kMiB, 0, 128 * kMiB}, kOver),
  };
  const std::string text = table(rows, true);
  EXPECT_THAT(text, ::testing::StartsWith("NAMESPACE  POD         CONTAINER  NAME  "));
  EXPECT_THAT(text, ::testing::HasSubstr("CACHE/LIMIT  REFAULTED  RULE       ACTION\n"));
  EXPECT_THAT(text,
              ::testing::HasSubstr("db-prod    postgres-0  postgres   pod " + std::string(kUid)));
  EXPECT_THAT(text, ::testing::HasSubstr("3.1%        0 B  databases  below threshold\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("\n-          -           -          docker/web"));
  EXPECT_THAT(text, ::testing::HasSubstr("31.2%        0 B  -          would reclaim\n"));
}

TEST(ReportTable, EachActionSaysWhatHappened) {
  ReportRow done = row("a/done", core::MemoryStats{40 * kMiB, 0, 100 * kMiB}, kOver);
  done.outcome = outcome(ReclaimOutcome::Result::kDone, 40 * kMiB, kMiB, 250ms);
  ReportRow slow = row("a/slow", core::MemoryStats{3 * kGiB, 0, std::nullopt}, kOver);
  slow.outcome = outcome(ReclaimOutcome::Result::kDone, 3 * kGiB, 512, 1500ms);
  ReportRow failed = row("a/failed", core::MemoryStats{40 * kMiB, 0, 100 * kMiB}, kOver);
  failed.outcome =
      outcome(ReclaimOutcome::Result::kFailed, 40 * kMiB, std::nullopt, 5ms,
              "failed to write memory.force_empty of a/failed: Device or resource busy");
  ReportRow error = row("a/error", std::nullopt, Decision{});
  error.error = "failed to read memory.stat of a/error: Permission denied";
  const std::vector<ReportRow> rows = {
      done,
      slow,
      failed,
      row("a/cooldown", core::MemoryStats{40 * kMiB, 0, 100 * kMiB}, kCooldown),
      row("a/running", core::MemoryStats{40 * kMiB, 0, 100 * kMiB}, kRunning),
      error,
  };
  EXPECT_EQ(
      table(rows, false),
      "NAME           CACHE      LIMIT  KIND  THRESHOLD  CACHE/LIMIT  REFAULTED  ACTION\n"
      "a/done      40.0 MiB  100.0 MiB  max    32.0 MiB        40.0%        0 B  reclaimed 39.0 "
      "MiB in "
      "250ms\n"
      "a/slow       3.0 GiB       none  -      32.0 MiB            -        0 B  reclaimed 3.0 GiB "
      "in "
      "1.5s\n"
      "a/failed    40.0 MiB  100.0 MiB  max    32.0 MiB        40.0%        0 B  reclaim failed: "
      "failed "
      "to write memory.force_empty of a/failed: Device or resource busy\n"
      "a/cooldown  40.0 MiB  100.0 MiB  max    32.0 MiB        40.0%        0 B  cooldown\n"
      "a/running   40.0 MiB  100.0 MiB  max    32.0 MiB        40.0%        0 B  reclaim running\n"
      "a/error            -          -  -             -            -          -  error: failed to "
      "read "
      "memory.stat of a/error: Permission denied\n");
}

TEST(ReportTable, NoLeavesSaysSo) {
  EXPECT_EQ(
      table({}, true),
      "NAME  CACHE  LIMIT  KIND  THRESHOLD  CACHE/LIMIT  REFAULTED  ACTION\n(no leaf cgroups)\n");
}

TEST(ReportJson, DryRunDocumentExactly) {
  const std::vector<ReportRow> rows = {
      container(8 * kMiB, 256 * kMiB, kBelow),
      row("docker/batch", core::MemoryStats{40 * kMiB, 4096, std::nullopt}, kNoLimit),
      row("docker/web", core::MemoryStats{40 * kMiB, 0, 128 * kMiB}, kOver),
  };
  EXPECT_EQ(json_text(rows, true), R"({
  "dry_run": true,
  "cgroups": [
    {
      "cgroup": "kubepods/burstable/pod6c1f0b2a-8d3e-4f5a-9b7c-1e2d3f4a5b6c/91d0c4e8a2f60123456789abcdef0123456789abcdef0123456789abcdef0123",
      "namespace": "",
      "pod": "",
      "container": "",
      "pod_uid": "6c1f0b2a-8d3e-4f5a-9b7c-1e2d3f4a5b6c",
      "container_id": "91d0c4e8a2f60123456789abcdef0123456789abcdef0123456789abcdef0123",
      "qos": "burstable",
      "rule": "",
      "cache_bytes": 8388608,
      "shmem_bytes": 0,
      "limit_bytes": 268435456,
      "limit_kind": "max",
      "threshold_bytes": 67108864,
      "refault_bytes": 0,
      "action": "none",
      "reason": "below threshold"
    },
    {
      "cgroup": "docker/batch",
      "namespace": "",
      "pod": "",
      "container": "",
      "pod_uid": "",
      "container_id": "",
      "qos": "",
      "rule": "",
      "cache_bytes": 41943040,
      "shmem_bytes": 4096,
      "limit_bytes": null,
      "limit_kind": null,
      "threshold_bytes": null,
      "refault_bytes": 0,
      "action": "none",
      "reason": "no limit"
    },
    {
      "cgroup": "docker/web",
      "namespace": "",
      "pod": "",
      "container": "",
      "pod_uid": "",
      "container_id": "",
      "qos": "",
      "rule": "",
      "cache_bytes": 41943040,
      "shmem_bytes": 0,
      "limit_bytes": 134217728,
      "limit_kind": "max",
      "threshold_bytes": 33554432,
      "refault_bytes": 0,
      "action": "would_reclaim",
      "reason": "reclaim"
    }
  ]
}
)");
}

TEST(ReportJson, OutcomesAndErrorsExactly) {
  ReportRow done = row("a/done", core::MemoryStats{40 * kMiB, 0, 100 * kMiB}, kOver);
  done.outcome = outcome(ReclaimOutcome::Result::kDone, 40 * kMiB, kMiB, 250ms);
  ReportRow failed = row("a/failed", core::MemoryStats{40 * kMiB, 0, 100 * kMiB}, kOver);
  failed.outcome = outcome(ReclaimOutcome::Result::kFailed, 40 * kMiB, std::nullopt, 5ms,
                           "failed to write memory.force_empty of a/failed: Device busy");
  ReportRow error = row("a/error", std::nullopt, Decision{});
  error.error = "failed to read memory.stat of a/error: Permission denied";
  EXPECT_EQ(json_text({done, failed, error}, false), R"({
  "dry_run": false,
  "cgroups": [
    {
      "cgroup": "a/done",
      "namespace": "",
      "pod": "",
      "container": "",
      "pod_uid": "",
      "container_id": "",
      "qos": "",
      "rule": "",
      "cache_bytes": 41943040,
      "shmem_bytes": 0,
      "limit_bytes": 104857600,
      "limit_kind": "max",
      "threshold_bytes": 33554432,
      "refault_bytes": 0,
      "action": "reclaim",
      "reason": "reclaim",
      "result": "done",
      "cache_after_bytes": 1048576,
      "freed_bytes": 40894464,
      "duration_seconds": 0.25
    },
    {
      "cgroup": "a/failed",
      "namespace": "",
      "pod": "",
      "container": "",
      "pod_uid": "",
      "container_id": "",
      "qos": "",
      "rule": "",
      "cache_bytes": 41943040,
      "shmem_bytes": 0,
      "limit_bytes": 104857600,
      "limit_kind": "max",
      "threshold_bytes": 33554432,
      "refault_bytes": 0,
      "action": "reclaim",
      "reason": "reclaim",
      "result": "failed",
      "cache_after_bytes": null,
      "freed_bytes": 0,
      "duration_seconds": 0.005,
      "error": "failed to write memory.force_empty of a/failed: Device busy"
    },
    {
      "cgroup": "a/error",
      "namespace": "",
      "pod": "",
      "container": "",
      "pod_uid": "",
      "container_id": "",
      "qos": "",
      "rule": "",
      "action": "none",
      "error": "failed to read memory.stat of a/error: Permission denied"
    }
  ]
}
)");
}

// memory.high below memory.max (cgroup v2): the table and the JSON say which limit it is.
TEST(Report, SaysWhichLimitBoundsALeaf) {
  core::MemoryStats throttled{120 * kMiB, 0, 200 * kMiB};
  throttled.limit_kind = core::LimitKind::kHigh;
  const Decision over = {Action::kReclaim, Reason::kOverThreshold, 100 * kMiB, std::nullopt};
  const std::vector<ReportRow> rows = {
      row("k/throttled", throttled, over),
      row("k/hard", core::MemoryStats{10 * kMiB, 0, 400 * kMiB}, kBelow),
  };
  EXPECT_EQ(table(rows, true),
            "NAME             CACHE      LIMIT  KIND  THRESHOLD  CACHE/LIMIT  REFAULTED  ACTION\n"
            "k/throttled  120.0 MiB  200.0 MiB  high  100.0 MiB        60.0%        0 B  would "
            "reclaim\n"
            "k/hard        10.0 MiB  400.0 MiB  max    64.0 MiB         2.5%        0 B  below "
            "threshold\n");
  const std::string json = json_text(rows, true);
  EXPECT_THAT(json,
              ::testing::HasSubstr("\"limit_bytes\": 209715200,\n      \"limit_kind\": \"high\","));
  EXPECT_THAT(json,
              ::testing::HasSubstr("\"limit_bytes\": 419430400,\n      \"limit_kind\": \"max\","));
}

TEST(ReportJson, NoLeavesIsAnEmptyList) {
  EXPECT_EQ(json_text({}, true), "{\n  \"dry_run\": true,\n  \"cgroups\": []\n}\n");
}

}  // namespace
}  // namespace cgmm::obs
