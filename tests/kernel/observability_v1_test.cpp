// What an operator reads from the built daemon on real cgroup v1 memory cgroups: /healthz,
// /metrics, the --once JSON report and JSON logs, each parsed the way a machine consuming them
// would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "support/daemon_process.h"
#include "support/http_get.h"
#include "support/kernel_tree.h"

namespace cgmm::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// One container of each QoS class under the cgroupfs driver, one under the systemd driver, and a
// cgroup that is no Kubernetes container.
struct Leaf {
  std::string rel;
  std::string pod_uid;
  std::string container_id;
  std::string qos;
};
const std::string kIdA = "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const std::string kIdB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kIdC = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const std::string kIdD = "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc";
const Leaf kGuaranteed = {"kubepods/pod11111111-2222-4333-8444-555555555555/" + kIdA,
                          "11111111-2222-4333-8444-555555555555", kIdA, "guaranteed"};
const Leaf kBurstable = {"kubepods/burstable/pod5f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9/" + kIdB,
                         "5f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9", kIdB, "burstable"};
const Leaf kBestEffort = {"kubepods/besteffort/pod0a1b2c3d-1111-4222-8333-444455556666/" + kIdC,
                          "0a1b2c3d-1111-4222-8333-444455556666", kIdC, "besteffort"};
const Leaf kSystemd = {
    "kubepods.slice/kubepods-burstable.slice/"
    "kubepods-burstable-pod8a7b6c5d_4e3f_4a2b_9c1d_0e1f2a3b4c5d.slice/cri-containerd-" +
        kIdD + ".scope",
    "8a7b6c5d-4e3f-4a2b-9c1d-0e1f2a3b4c5d", kIdD, "burstable"};
const Leaf kPlain = {"system/batch-job", "", "", ""};

class ObservabilityV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    top_ = std::filesystem::path(tree_->root()).filename().string();
  }

  // The name the daemon gives a leaf: its path below the parent's parent.
  std::string name(const Leaf& leaf) const { return top_ + "/" + leaf.rel; }

  std::unique_ptr<KernelTree> tree_;
  std::string top_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
const std::set<std::string> kLevels = {"trace", "debug", "info", "warning", "error"};
// The events README's "Logs" section lists: the backticked names of its "Events:" paragraph.
std::set<std::string> readme_events() {
  std::ifstream in(std::string(CGMM_TEST_DATA) + "/../../README.md");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const size_t start = text.find("\nEvents: ");
  const size_t end = text.find("\n\n", start);
  std::set<std::string> events;
  if (start == std::string::npos) {
    return events;
  }
  const std::string para = text.substr(start, end - start);
  const std::regex name("`([a-z_]+)`");
  for (auto it = std::sregex_iterator(para.begin(), para.end(), name); it != std::sregex_iterator();
       ++it) {
    events.insert((*it)[1]);
  }
  return events;
}
const std::set<std::string> kEvents = readme_events();

// Every line of `log` as a JSON object with the fields every event has; fails the test on any
// line that is not.
std::vector<json> parse_json_log(const std::string& log) {
  std::vector<json> events;
  for (const std::string& line : lines_of(log)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ADD_FAILURE() << "not a JSON object: " << line;
      continue;
    }
    EXPECT_TRUE(j["time"].is_string() && std::regex_match(j["time"].get<std::string>(), kTime))
        << line;
    EXPECT_TRUE(j["level"].is_string() && kLevels.count(j["level"].get<std::string>())) << line;
    EXPECT_TRUE(j["event"].is_string() && kEvents.count(j["event"].get<std::string>()))
        << "an event README does not list: " << line;
    EXPECT_TRUE(j["msg"].is_string() && !j["msg"].get<std::string>().empty()) << line;
    events.push_back(std::move(j));
  }
  return events;
}

std::vector<json> events_named(const std::vector<json>& events, const std::string& event) {
  std::vector<json> out;
  for (const json& e : events) {
    if (e.value("event", "") == event) {
      out.push_back(e);
    }
  }
  return out;
}

TEST_F(ObservabilityV1, HealthzAnswers200WhileTheDaemonScans) {
  tree_->make(kBurstable.rel);
  const std::uint16_t port = free_loopback_port();
  DaemonProcess d({"--parent", tree_->root(), "--interval", "200ms", "--listen",
                   "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http_get(port, "/healthz");
        return r && r->status == 200;
      },
      seconds(15)))
      << d.err();
  // Scans keep finishing on schedule: every probe over several intervals is healthy.
  for (int i = 0; i < 10; ++i) {
    auto r = http_get(port, "/healthz");
    ASSERT_TRUE(r.has_value()) << d.err();
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->body, "ok\n");
    ::usleep(100'000);
  }
  auto metrics = http_get(port, "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_THAT(metrics->body, ::testing::HasSubstr("cgmm_scans_total"));
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0) << d.err();
}

// The value of the first sample of `family` whose labels hold `label`; -1 without one.
double sample_value(const std::string& page, const std::string& family, const std::string& label) {
  for (const std::string& line : lines_of(page)) {
    if (line.starts_with(family + "{") && line.find(label) != std::string::npos) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return -1;
}

// A finished reclaim is on the page at once: the leaf's cache gauge is what memory.stat says
// after it, while the scan that saw the leaf full is still the only one.
TEST_F(ObservabilityV1, MetricsShowTheCacheAReclaimLeftBeforeTheNextScan) {
  tree_->make(kBurstable.rel, 100 * kMiB);
  tree_->fill_shm(kBurstable.rel, 10);  // shmem: force_empty leaves it, so the cache after is not 0
  tree_->fill(kBurstable.rel, 40);
  const std::uint16_t port = free_loopback_port();
  DaemonProcess d({"--parent", tree_->root(), "--threshold", "25%", "--interval", "60", "--listen",
                   "127.0.0.1:" + std::to_string(port)});
  std::string page;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http_get(port, "/metrics");
        page = r ? r->body : "";
        return page.find("cgmm_reclaims_total{result=\"done\"} 1\n") != std::string::npos;
      },
      seconds(20)))
      << d.err() << page;
  const auto cache = static_cast<double>(tree_->cache(kBurstable.rel));
  EXPECT_THAT(page, ::testing::HasSubstr("cgmm_scans_total 1\n"));
  const std::string leaf = "container_id=\"" + kBurstable.container_id + "\"";
  const double gauge = sample_value(page, "cgmm_leaf_cache_bytes", leaf);
  EXPECT_NEAR(gauge, cache, static_cast<double>(kMiB)) << page;
  EXPECT_GE(gauge, 9.0 * kMiB) << page;
  EXPECT_LT(gauge, 20.0 * kMiB) << page;  // not the 50 MiB the scan read
  EXPECT_GT(sample_value(page, "cgmm_leaf_last_reclaim_timestamp_seconds", leaf), 0) << page;
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0) << d.err();
}

TEST_F(ObservabilityV1, OnceDryRunJsonReportHasOneEntryPerLeafWithKubernetesNames) {
  tree_->make("kubepods/pod11111111-2222-4333-8444-555555555555", 100 * kMiB);
  tree_->make(kGuaranteed.rel);
  tree_->make(kBurstable.rel, 100 * kMiB);
  tree_->make(kBestEffort.rel);
  tree_->make(kSystemd.rel, 100 * kMiB);
  tree_->make(kPlain.rel, 100 * kMiB);
  tree_->fill(kBurstable.rel, 40);  // over 25% of 100 MiB
  const uint64_t before = tree_->cache(kBurstable.rel);

  RunResult r = run_daemon({"--parent", tree_->root(), "--threshold", "25%", "--once", "--dry-run",
                            "--output", "json", "--log-level", "warn"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const json doc = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["dry_run"], true);
  ASSERT_TRUE(doc["cgroups"].is_array()) << r.out;

  std::map<std::string, json> by_name;
  for (const json& e : doc["cgroups"]) {
    by_name[e["cgroup"].get<std::string>()] = e;
  }
  const std::vector<Leaf> leaves = {kGuaranteed, kBurstable, kBestEffort, kSystemd, kPlain};
  EXPECT_EQ(doc["cgroups"].size(), leaves.size()) << r.out;
  EXPECT_EQ(by_name.size(), leaves.size()) << r.out;
  for (const Leaf& leaf : leaves) {
    SCOPED_TRACE(leaf.rel);
    ASSERT_EQ(by_name.count(name(leaf)), 1u) << r.out;
    const json& e = by_name[name(leaf)];
    EXPECT_EQ(e["pod_uid"], leaf.pod_uid);
    EXPECT_EQ(e["container_id"], leaf.container_id);
    EXPECT_EQ(e["qos"], leaf.qos);
    EXPECT_TRUE(e["cache_bytes"].is_number_unsigned());
  }

  const json& over = by_name[name(kBurstable)];
  EXPECT_EQ(over["action"], "would_reclaim");
  EXPECT_EQ(over["limit_bytes"], 100 * kMiB);
  EXPECT_EQ(over["threshold_bytes"], 25 * kMiB);
  EXPECT_GT(over["cache_bytes"].get<uint64_t>(), 25 * kMiB);
  const json& unlimited = by_name[name(kBestEffort)];
  EXPECT_TRUE(unlimited["limit_bytes"].is_null());
  EXPECT_TRUE(unlimited["threshold_bytes"].is_null());
  EXPECT_EQ(unlimited["reason"], "no limit");
  EXPECT_EQ(by_name[name(kGuaranteed)]["limit_bytes"], 100 * kMiB);  // the pod's limit
  EXPECT_EQ(by_name[name(kSystemd)]["action"], "none");
  // A dry run writes nothing.
  EXPECT_GE(tree_->cache(kBurstable.rel), before / 2);
}

TEST_F(ObservabilityV1, JsonLogLinesAreObjectsAndTheReclaimCarriesItsFields) {
  tree_->make(kBurstable.rel, 100 * kMiB);
  tree_->make(kSystemd.rel, 100 * kMiB);
  tree_->fill(kBurstable.rel, 40);

  RunResult r = run_daemon({"--parent", tree_->root(), "--threshold", "25%", "--once",
                            "--log-format", "json", "--log-level", "debug"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(tree_->cache(kBurstable.rel), 5 * kMiB);
  const std::vector<json> events = parse_json_log(r.err);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front()["event"], "start");
  EXPECT_EQ(events_named(events, "scan_first").size(), 1u) << r.err;
  EXPECT_EQ(events_named(events, "cgroup_found").size(), 2u) << r.err;
  EXPECT_EQ(events_named(events, "reclaim_start").size(), 1u) << r.err;

  const std::vector<json> reclaims = events_named(events, "reclaim");
  ASSERT_EQ(reclaims.size(), 1u) << r.err;
  const json& e = reclaims[0];
  EXPECT_EQ(e["level"], "info");
  EXPECT_EQ(e["cgroup"], name(kBurstable));
  EXPECT_EQ(e["pod_uid"], kBurstable.pod_uid);
  EXPECT_EQ(e["container_id"], kBurstable.container_id);
  EXPECT_EQ(e["result"], "done");
  ASSERT_TRUE(e["cache_bytes"].is_number_unsigned()) << e;
  ASSERT_TRUE(e["cache_after_bytes"].is_number_unsigned()) << e;
  ASSERT_TRUE(e["freed_bytes"].is_number_unsigned()) << e;
  EXPECT_GT(e["cache_bytes"].get<uint64_t>(), 25 * kMiB);
  EXPECT_LT(e["cache_after_bytes"].get<uint64_t>(), 5 * kMiB);
  EXPECT_EQ(e["freed_bytes"].get<uint64_t>(),
            e["cache_bytes"].get<uint64_t>() - e["cache_after_bytes"].get<uint64_t>());
  ASSERT_TRUE(e["duration_seconds"].is_number()) << e;
  EXPECT_GE(e["duration_seconds"].get<double>(), 0.0);
  EXPECT_THAT(e["msg"].get<std::string>(), ::testing::HasSubstr("pod " + kBurstable.pod_uid));
}

TEST_F(ObservabilityV1, RunningDaemonLogsOnlyJsonUntilItStops) {
  tree_->make(kBurstable.rel);
  tree_->make(kSystemd.rel);
  DaemonProcess d({"--parent", tree_->root(), "--interval", "200ms", "--log-format", "json",
                   "--log-level", "trace"});
  ASSERT_TRUE(d.wait_for_log(R"("event":"scan_first")", seconds(10))) << d.err();
  ASSERT_EQ(::rmdir(tree_->path(kSystemd.rel).c_str()), 0);
  ASSERT_TRUE(d.wait_for_log(R"("event":"cgroup_vanished")", seconds(10))) << d.err();
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait(seconds(5)), 0) << d.err();

  const std::vector<json> events = parse_json_log(d.err());
  const std::vector<json> vanished = events_named(events, "cgroup_vanished");
  ASSERT_EQ(vanished.size(), 1u) << d.err();
  EXPECT_EQ(vanished[0]["cgroup"], name(kSystemd));
  const std::vector<json> decisions = events_named(events, "decision");
  ASSERT_FALSE(decisions.empty()) << d.err();
  EXPECT_EQ(decisions[0]["level"], "trace");
  EXPECT_EQ(decisions[0]["reason"], "no limit");  // 25% of no limit at all
  EXPECT_TRUE(decisions[0]["cgroup"].is_string());
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2]["event"], "signal");
  EXPECT_EQ(events.back()["event"], "stop");
}

// What a log pipeline gets from a daemon that cannot start: one JSON line it can parse like
// every other event, naming what to fix and the exit code.
TEST_F(ObservabilityV1, StartUpErrorsAreOneJsonLineWithTheJsonLogFormat) {
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string named;
  };
  const std::string p = tree_->root();
  const Case cases[] = {
      {{"--parent", p, "--log-format", "json", "--threshold", "150%"}, {}, "\"150%\""},
      {{"--parent", p}, {"CGMM_LOG_FORMAT=json", "CGMM_ONCE=maybe"}, "CGMM_ONCE"},
      // The parser gives up on the rest of the command line, but has read the format.
      {{"--log-format", "json", "--parent", p, "--no-such-flag"}, {}, "--no-such-flag"},
      {{"--parent", p, "--interval"}, {"CGMM_LOG_FORMAT=json"}, "--interval"},
      // Found once logging is set up.
      {{"--parent", "/tmp", "--log-format", "json"}, {}, "/tmp"},
  };
  for (const Case& c : cases) {
    RunResult r = run_daemon(c.args, c.env, seconds(20));
    EXPECT_EQ(r.code, 2) << r.err;
    ASSERT_EQ(lines_of(r.err).size(), 1u) << r.err;
    const std::vector<json> events = parse_json_log(r.err);
    ASSERT_EQ(events.size(), 1u) << r.err;
    EXPECT_EQ(events[0]["event"], "usage_error") << r.err;
    EXPECT_EQ(events[0]["level"], "error") << r.err;
    EXPECT_EQ(events[0]["exit_code"], 2) << r.err;
    EXPECT_THAT(events[0]["msg"].get<std::string>(), ::testing::HasSubstr(c.named));
    EXPECT_EQ(r.out, "");
  }
}

// A runtime failure at start: too few file descriptors for the signalfd.
TEST_F(ObservabilityV1, AFatalErrorAtStartIsOneJsonLineWithExitCodeOne) {
  if (std::getenv("CGMM_SANITIZED")) {
    // The sanitizer runtimes need descriptors of their own (UBSan checks memory through a pipe),
    // and this test leaves the daemon none: it runs in the plain build only.
    GTEST_SKIP() << "needs a daemon without sanitizer runtimes";
  }
  DaemonProcess d({"--parent", tree_->root(), "--once", "--dry-run", "--log-format", "json",
                   "--log-level", "off"},
                  {}, [] {
                    // Only stdin, stdout, stderr and then the parent's directory fd fit.
                    const rlimit few = {4, 4};
                    if (::close_range(3, ~0U, 0) != 0 || ::setrlimit(RLIMIT_NOFILE, &few) != 0) {
                      ::_exit(125);
                    }
                  });
  ASSERT_EQ(d.wait(seconds(20)), 1) << d.err();
  ASSERT_EQ(lines_of(d.err()).size(), 1u) << d.err();
  const std::vector<json> events = parse_json_log(d.err());
  ASSERT_EQ(events.size(), 1u) << d.err();
  EXPECT_EQ(events[0]["event"], "fatal_error");
  EXPECT_EQ(events[0]["level"], "error");
  EXPECT_EQ(events[0]["exit_code"], 1);
  EXPECT_THAT(events[0]["msg"].get<std::string>(), ::testing::HasSubstr("Too many open files"));
}

// Plain text when the format is text, and when the format itself is what is wrong.
TEST_F(ObservabilityV1, StartUpErrorsStayPlainTextOtherwise) {
  const std::string p = tree_->root();
  for (const auto& [args, env] :
       std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
           {{"--parent", p, "--threshold", "150%"}, {}},
           {{"--parent", p, "--log-format", "text", "--threshold", "150%"},
            {"CGMM_LOG_FORMAT=json"}},
           {{"--parent", p, "--log-format", "xml"}, {}},
           {{"--parent", p}, {"CGMM_LOG_FORMAT=xml"}},
       }) {
    RunResult r = run_daemon(args, env, seconds(20));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_THAT(r.err, ::testing::StartsWith("cgroup-memory-manager: invalid ")) << r.err;
    EXPECT_THAT(r.err, ::testing::HasSubstr("--help")) << r.err;
  }
}

}  // namespace
}  // namespace cgmm::testing
