// Names and rules against real cgroup v1 memory cgroups: containers laid out as the kubelet's
// cgroupfs driver makes them, named by a kubelet log tree, decided by a policy file. Every
// assertion on what the daemon did is made on what the kernel reports in memory.stat.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/http_get.h"
#include "support/kernel_tree.h"
#include "support/kubelet_logs.h"
#include "support/temp_tree.h"

namespace cgmm::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

// Two guaranteed pods of 200 MiB, one container each: CoreDNS in kube-system, a web server in
// default. With --threshold 25% each container's threshold is 50 MiB.
constexpr const char* kDnsUid = "3f1c9a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
constexpr const char* kWebUid = "8e7d6c5b-4a39-4281-9f0e-d1c2b3a4f5e6";
const std::string kDnsId(64, 'd');
const std::string kWebId(64, 'e');
const std::string kDns = std::string("pod") + kDnsUid + "/" + kDnsId;
const std::string kWeb = std::string("pod") + kWebUid + "/" + kWebId;

class PolicyV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    tree_->make(std::string("kubepods/pod") + kDnsUid, 200 * kMiB);
    tree_->make("kubepods/" + kDns);
    tree_->make(std::string("kubepods/pod") + kWebUid, 200 * kMiB);
    tree_->make("kubepods/" + kWeb);
    logs_.add_container("kube-system", "coredns-7db6d8ff4d-x2k9p", kDnsUid, "coredns", kDnsId);
    logs_.add_container("default", "web-1", kWebUid, "web", kWebId);
  }

  std::string parent() const { return tree_->path("kubepods"); }
  uint64_t cache(const std::string& leaf) const { return tree_->cache("kubepods/" + leaf); }
  void fill(const std::string& leaf, uint64_t mib) { tree_->fill("kubepods/" + leaf, mib); }

  std::string write_policy(const std::string& yaml) {
    files_.write("policy.yaml", yaml);
    return (files_.root() / "policy.yaml").string();
  }

  std::vector<std::string> args(std::vector<std::string> more) const {
    std::vector<std::string> a = {"--parent",
                                  parent(),
                                  "--pod-logs-dir",
                                  logs_.pods_dir(),
                                  "--container-logs-dir",
                                  logs_.containers_dir()};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }

  static const nlohmann::json* row(const nlohmann::json& report, const std::string& id) {
    for (const auto& r : report["cgroups"]) {
      if (r["container_id"] == id) {
        return &r;
      }
    }
    return nullptr;
  }

  std::unique_ptr<KernelTree> tree_;
  KubeletLogs logs_;
  TempTree files_;
};

constexpr const char* kSystemRule = R"(rules:
  - name: system
    match:
      namespace: kube-system
    reclaim: false
)";

TEST_F(PolicyV1, AReclaimFalseRuleKeepsItsLeafsCacheWhileTheOtherIsReclaimed) {
  // Without the rule both containers, 80 MiB over their 50 MiB thresholds, are reclaimed.
  fill(kDns, 80);
  fill(kWeb, 80);
  RunResult plain = run_daemon(args({"--threshold", "25%", "--once"}));
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_LT(cache(kDns), 5 * kMiB);
  EXPECT_LT(cache(kWeb), 5 * kMiB);

  fill(kDns, 80);
  fill(kWeb, 80);
  const std::string policy = write_policy(kSystemRule);
  RunResult r =
      run_daemon(args({"--threshold", "25%", "--once", "--output", "json", "--policy", policy}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GE(cache(kDns), left_alone(80));
  EXPECT_LT(cache(kWeb), 5 * kMiB);

  const auto report = nlohmann::json::parse(r.out);
  const nlohmann::json* dns = row(report, kDnsId);
  const nlohmann::json* web = row(report, kWebId);
  ASSERT_NE(dns, nullptr) << r.out;
  ASSERT_NE(web, nullptr) << r.out;
  EXPECT_EQ((*dns)["namespace"], "kube-system");
  EXPECT_EQ((*dns)["pod"], "coredns-7db6d8ff4d-x2k9p");
  EXPECT_EQ((*dns)["container"], "coredns");
  EXPECT_EQ((*dns)["rule"], "system");
  EXPECT_EQ((*dns)["reason"], "excluded");
  EXPECT_EQ((*web)["namespace"], "default");
  EXPECT_EQ((*web)["container"], "web");
  EXPECT_EQ((*web)["rule"], "");
  EXPECT_EQ((*web)["result"], "done");
  // Text logs name the container by its names.
  EXPECT_THAT(r.err, HasSubstr("reclaimed default/web-1/web"));
}

TEST_F(PolicyV1, ALeafUnderTheCommandLineThresholdButOverItsRulesIsReclaimed) {
  // 30 MiB of 200: under 25% (50 MiB), over 10% (20 MiB).
  fill(kDns, 30);
  fill(kWeb, 30);
  const std::string policy = write_policy(R"(rules:
  - name: web
    match:
      namespace: default
      container: "w*"
    threshold: 10%
)");
  RunResult r = run_daemon(args({"--threshold", "25%", "--once", "--policy", policy}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(cache(kWeb), 5 * kMiB);
  EXPECT_GE(cache(kDns), left_alone(30));  // the command line's threshold: left alone
  EXPECT_THAT(r.err, HasSubstr("reclaimed default/web-1/web (rule web)"));
}

// What /metrics says of one gauge without labels, or -1.
double gauge(std::uint16_t port, const std::string& name) {
  auto r = http_get(port, "/metrics");
  if (!r || r->status != 200) {
    return -1;
  }
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(name + " ")) {
      return std::stod(line.substr(name.size() + 1));
    }
  }
  return -1;
}

TEST_F(PolicyV1, ARewrittenPolicyDecidesTheNextScanAndABrokenOneKeepsTheLast) {
  const std::string policy = write_policy(R"(rules:
  - name: keep-web
    match:
      container: web
    reclaim: false
)");
  const std::uint16_t port = free_loopback_port();
  DaemonProcess d(args({"--threshold", "25%", "--interval", "1", "--cooldown", "1", "--listen",
                        "127.0.0.1:" + std::to_string(port), "--policy", policy}));
  ASSERT_TRUE(eventually([&] { return gauge(port, "cgmm_scans_total") >= 1; }, seconds(20)))
      << d.err();
  EXPECT_EQ(gauge(port, "cgmm_policy_last_reload_successful"), 1);

  fill(kWeb, 80);
  // Two whole scans after the fill: the rule holds the leaf.
  const double after_fill = gauge(port, "cgmm_scans_total");
  ASSERT_TRUE(
      eventually([&] { return gauge(port, "cgmm_scans_total") >= after_fill + 2; }, seconds(20)));
  EXPECT_GE(cache(kWeb), left_alone(80));

  // A tighter rule than the command line's: 10% of 200 MiB.
  write_policy(R"(rules:
  - name: tight-web
    match:
      container: web
    threshold: 10%
)");
  ASSERT_TRUE(eventually([&] { return cache(kWeb) < 5 * kMiB; }, seconds(20)))
      << cache(kWeb) << "\n"
      << d.err();
  EXPECT_THAT(d.err(), HasSubstr("reloaded policy"));

  write_policy("rules:\n  - match:\n      container: web\n    treshold: 10%\n");
  ASSERT_TRUE(eventually([&] { return gauge(port, "cgmm_policy_last_reload_successful") == 0; },
                         seconds(20)))
      << d.err();
  EXPECT_TRUE(d.running());
  EXPECT_THAT(d.err(), HasSubstr("policy.yaml:4"));
  // 30 MiB: over the 20 MiB of the rule still in force, under the command line's 50 MiB.
  fill(kWeb, 30);
  ASSERT_TRUE(eventually([&] { return cache(kWeb) < 5 * kMiB; }, seconds(20)))
      << cache(kWeb) << "\n"
      << d.err();

  // SIGHUP reads a fixed file again.
  write_policy(kSystemRule);
  d.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return gauge(port, "cgmm_policy_last_reload_successful") == 1; },
                         seconds(20)))
      << d.err();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(20)), 0);
}

TEST_F(PolicyV1, MetricsCarryTheNamesAndTheRule) {
  const std::string policy = write_policy(kSystemRule);
  const std::uint16_t port = free_loopback_port();
  DaemonProcess d(args(
      {"--interval", "1", "--listen", "127.0.0.1:" + std::to_string(port), "--policy", policy}));
  std::string body;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http_get(port, "/metrics");
        body = r ? r->body : "";
        return body.find("cgmm_leaf_limit_bytes{") != std::string::npos;
      },
      seconds(20)))
      << d.err();
  EXPECT_THAT(body, HasSubstr(std::string("namespace=\"kube-system\",pod=\"coredns-7db6d8ff4d-"
                                          "x2k9p\",container=\"coredns\",pod_uid=\"") +
                              kDnsUid + "\""));
  EXPECT_THAT(body, HasSubstr("qos=\"guaranteed\",rule=\"system\"}"));
  EXPECT_THAT(body, HasSubstr("namespace=\"default\",pod=\"web-1\",container=\"web\""));
  EXPECT_THAT(body, HasSubstr("qos=\"guaranteed\",rule=\"\"}"));
}

TEST_F(PolicyV1, ABadPolicyAtStartIsExitTwoNamingFileAndLine) {
  const std::string policy = write_policy("rules:\n  - match:\n      nmespace: x\n");
  RunResult r = run_daemon(args({"--once", "--policy", policy}));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(policy + ":3"));
  EXPECT_THAT(r.err, HasSubstr("nmespace"));
}

TEST_F(PolicyV1, AReclaimTargetRuleIsExitTwoOnCgroupV1) {
  const std::string policy = write_policy(R"(rules:
  - match:
      namespace: default
    reclaim-target: 5%
)");
  RunResult r = run_daemon(args({"--once", "--policy", policy}));
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(policy + ":2"));
  EXPECT_THAT(r.err, HasSubstr("cgroup v2"));
}

TEST_F(PolicyV1, ConmonLeavesAreNeverReclaimedAndReportedAsRuntime) {
  // The cgroupfs layouts of CRI-O (a container and its monitor's cgroup beside it) and of podman
  // run with --cgroup-parent set to the pod's cgroup (one `conmon` for every container there).
  const std::string pod = std::string("pod") + kWebUid;
  const std::vector<std::string> containers = {pod + "/crio-" + std::string(64, 'a'),
                                               pod + "/libpod-" + std::string(64, 'b')};
  const std::vector<std::string> monitors = {pod + "/crio-conmon-" + std::string(64, 'a'),
                                             pod + "/conmon"};
  for (const auto* leaves : {&containers, &monitors}) {
    for (const std::string& leaf : *leaves) {
      tree_->make("kubepods/" + leaf);
      fill(leaf, 40);
    }
  }
  RunResult r = run_daemon(args({"--threshold", "15%", "--once", "--output", "json"}));
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string& leaf : containers) {
    EXPECT_LT(cache(leaf), 5 * kMiB) << leaf;
  }
  const auto report = nlohmann::json::parse(r.out);
  for (const std::string& leaf : monitors) {
    EXPECT_GE(cache(leaf), left_alone(40)) << leaf;
    bool seen = false;
    for (const auto& row : report["cgroups"]) {
      if (row["cgroup"].get<std::string>().ends_with(leaf)) {
        seen = true;
        EXPECT_EQ(row["reason"], "runtime") << leaf;
        EXPECT_EQ(row["namespace"], "default") << leaf;  // named by its pod, not as a container
        EXPECT_EQ(row["container"], "") << leaf;
      }
    }
    EXPECT_TRUE(seen) << leaf << ": " << r.out;
  }
}

TEST_F(PolicyV1, APodStartedAfterTheDaemonIsNamedAsSoonAsItsCgroupIsSeen) {
  const std::uint16_t port = free_loopback_port();
  DaemonProcess d(args({"--interval", "1", "--listen", "127.0.0.1:" + std::to_string(port)}));
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http_get(port, "/metrics");
        return r && r->body.find("container=\"web\"") != std::string::npos;
      },
      seconds(20)))
      << d.err();
  const std::string uid = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
  const std::string id(64, 'f');
  logs_.add_container("batch", "report-28391", uid, "report", id);
  tree_->make("kubepods/pod" + uid, 200 * kMiB);
  tree_->make("kubepods/pod" + uid + "/" + id);
  std::string body;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http_get(port, "/metrics");
        body = r ? r->body : "";
        return body.find("namespace=\"batch\",pod=\"report-28391\",container=\"report\"") !=
               std::string::npos;
      },
      seconds(20)))
      << body;
}

}  // namespace
}  // namespace cgmm::testing
