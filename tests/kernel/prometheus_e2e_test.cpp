// End to end, as an operator would see it: a real Prometheus server scrapes the built daemon,
// which manages a real kubepods-like cgroup v1 tree (both kubelet cgroup drivers), and what
// Prometheus stores is read back through its HTTP API.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "support/daemon_process.h"
#include "support/http_get.h"
#include "support/kernel_tree.h"
#include "support/prometheus_server.h"

namespace cgmm::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr const char* kPodUid = "5f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9";
constexpr const char* kContainerId =
    "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
// The cgroupfs driver: kubepods/<qos>/pod<uid>/<container id>.
const std::string kPod = std::string("kubepods/burstable/pod") + kPodUid;
const std::string kLeaf = kPod + "/" + kContainerId;

constexpr const char* kSystemdPodUid = "8a7b6c5d-4e3f-4a2b-9c1d-0e1f2a3b4c5d";
constexpr const char* kSystemdContainerId =
    "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc";
// The systemd driver: slices named after the QoS class and the pod uid with underscores.
const std::string kSystemdPod =
    "kubepods.slice/kubepods-burstable.slice/"
    "kubepods-burstable-pod8a7b6c5d_4e3f_4a2b_9c1d_0e1f2a3b4c5d.slice";
const std::string kSystemdLeaf =
    kSystemdPod + "/cri-containerd-" + std::string(kSystemdContainerId) + ".scope";

// Polls `promql` until it returns at least one sample; the last result (empty on timeout).
std::vector<PromSample> wait_for_query(const PrometheusServer& prom, const std::string& promql,
                                       std::chrono::milliseconds timeout) {
  std::vector<PromSample> result;
  eventually(
      [&] {
        result = prom.query(promql);
        return !result.empty();
      },
      timeout);
  return result;
}

std::string scrape(std::uint16_t port) {
  auto r = http_get(port, "/metrics");
  return r && r->status == 200 ? r->body : "";
}

TEST(PrometheusEndToEnd, PrometheusStoresTheDaemonsLeafAndReclaimSeries) {
  CGMM_REQUIRE_KERNEL();
  CGMM_REQUIRE_PROMETHEUS();
  KernelTree tree;
  tree.make(kPod, 100 * kMiB);
  tree.make(kLeaf);
  tree.make(kSystemdPod, 100 * kMiB);
  tree.make(kSystemdLeaf);
  tree.fill(kSystemdLeaf, 2);  // under its threshold: watched, never reclaimed
  // 40 MiB of cache over a threshold of 25% of the pod's 100 MiB, written and synced before the
  // daemon starts: its first scan reclaims it all, with no writer still adding to it.
  tree.fill(kLeaf, 40);
  // Leaves are named by their path below the parent's parent.
  const std::string top = std::filesystem::path(tree.root()).filename().string();

  const std::uint16_t port = free_loopback_port();
  const std::string target = "127.0.0.1:" + std::to_string(port);
  DaemonProcess d(
      {"--parent", tree.root(), "--threshold", "25%", "--interval", "200ms", "--listen", target});
  ASSERT_TRUE(eventually(
      [&] {
        auto r = http_get(port, "/healthz");
        return r && r->status == 200;
      },
      seconds(15)))
      << d.err();

  ASSERT_TRUE(eventually([&] { return tree.cache(kLeaf) < 5 * kMiB; }, seconds(20))) << d.err();

  PrometheusServer prom("cgmm", {target});

  auto up = wait_for_query(prom, R"(up{job="cgmm"} == 1)", seconds(30));
  EXPECT_EQ(up.size(), 1u) << prom.log();

  auto cache = wait_for_query(
      prom, std::string(R"(cgmm_leaf_cache_bytes{container_id=")") + kContainerId + "\"}",
      seconds(30));
  ASSERT_EQ(cache.size(), 1u) << prom.log();
  EXPECT_EQ(cache[0].labels["cgroup"], top + "/" + kLeaf);
  EXPECT_EQ(cache[0].labels["pod_uid"], kPodUid);
  EXPECT_EQ(cache[0].labels["qos"], "burstable");
  EXPECT_EQ(cache[0].labels["job"], "cgmm");
  EXPECT_EQ(cache[0].labels["instance"], target);

  auto systemd = wait_for_query(
      prom, std::string(R"(cgmm_leaf_cache_bytes{container_id=")") + kSystemdContainerId + "\"}",
      seconds(30));
  ASSERT_EQ(systemd.size(), 1u) << prom.log();
  EXPECT_EQ(systemd[0].labels["cgroup"], top + "/" + kSystemdLeaf);
  EXPECT_EQ(systemd[0].labels["pod_uid"], kSystemdPodUid);
  EXPECT_EQ(systemd[0].labels["qos"], "burstable");
  EXPECT_GE(systemd[0].value, static_cast<double>(kMiB));

  auto limit = wait_for_query(
      prom, std::string(R"(cgmm_leaf_limit_bytes{container_id=")") + kContainerId + "\"}",
      seconds(30));
  ASSERT_EQ(limit.size(), 1u);
  EXPECT_EQ(limit[0].value, static_cast<double>(100 * kMiB));
  EXPECT_EQ(limit[0].labels["limit_kind"], "max");  // v1 has only the hard limit

  auto reclaims =
      wait_for_query(prom, R"(cgmm_reclaims_total{job="cgmm",result="done"} >= 1)", seconds(30));
  EXPECT_EQ(reclaims.size(), 1u) << prom.log();
  auto last_reclaim =
      wait_for_query(prom,
                     std::string(R"(cgmm_leaf_last_reclaim_timestamp_seconds{container_id=")") +
                         kContainerId + "\"}",
                     seconds(30));
  EXPECT_EQ(last_reclaim.size(), 1u);

  auto build = wait_for_query(prom, R"(cgmm_build_info{job="cgmm"} == 1)", seconds(30));
  ASSERT_EQ(build.size(), 1u);
  EXPECT_EQ(build[0].labels["version"], CGMM_VERSION);

  // A removed container's series leave the exposition at the next scan, and Prometheus marks
  // them stale at its next scrape.
  ASSERT_THAT(scrape(port), HasSubstr(kSystemdContainerId));
  ASSERT_EQ(::rmdir(tree.path(kSystemdLeaf).c_str()), 0);
  EXPECT_TRUE(eventually(
      [&] {
        const std::string text = scrape(port);
        return !text.empty() && text.find(kSystemdContainerId) == std::string::npos;
      },
      seconds(10)))
      << scrape(port);
  EXPECT_THAT(scrape(port), HasSubstr(kContainerId));
  const std::string removed =
      std::string(R"(cgmm_leaf_cache_bytes{container_id=")") + kSystemdContainerId + "\"}";
  EXPECT_TRUE(eventually([&] { return prom.query(removed).empty(); }, seconds(15)));
  // ...while the container that is still there is queried as before.
  EXPECT_EQ(
      prom.query(std::string(R"(cgmm_leaf_cache_bytes{container_id=")") + kContainerId + "\"}")
          .size(),
      1u);

  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0) << d.err();
}

}  // namespace
}  // namespace cgmm::testing
