#include "k8s/kubelet_names.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>

namespace cgmm::core {

void PrintTo(const Workload& w, std::ostream* os) {
  *os << "{namespace=" << w.namespace_name << " pod=" << w.pod << " container=" << w.container
      << "}";
}

}  // namespace cgmm::core

namespace cgmm::k8s {

void PrintTo(const ContainerLogLink& l, std::ostream* os) {
  *os << "{pod=" << l.pod << " namespace=" << l.namespace_name << " container=" << l.container
      << " id_prefix=" << l.id_prefix << "}";
}

namespace {

using core::Workload;

const std::string kUid = "3f2a9c1e-7b4d-4e8f-9a0b-1c2d3e4f5a6b";
const std::string kOtherUid = "8e7d6c5b-4a39-4281-b7c6-d5e4f3a2b1c0";
const std::string kId = "9d4c1b7e0f2a3b5c6d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c";
const std::string kNewId = "51a7f3c2e9b84d06a1c3e5f7092b4d6f8a0c2e4f6b8d0a2c4e6f8b0d2f4a6c8e";

// /var/log/pods/<namespace>_<pod>_<uid>
std::string pod_dir(const std::string& ns, const std::string& pod, const std::string& uid) {
  return ns + "_" + pod + "_" + uid;
}

// /var/log/containers/<name>, as the kubelet makes it: the name cut to 251 bytes, then ".log".
std::string container_link(const std::string& pod, const std::string& ns,
                           const std::string& container, const std::string& id) {
  std::string name = pod + "_" + ns + "_" + container + "-" + id;
  if (name.size() > 251) {
    name.resize(251);
  }
  return name + ".log";
}

std::optional<Workload> named(const std::shared_ptr<const Workload>& w) {
  return w ? std::optional<Workload>(*w) : std::nullopt;
}

// A pod name of `length` bytes, valid as a DNS subdomain.
std::string long_pod_name(size_t length) {
  std::string name = "report-generator-";
  while (name.size() < length) {
    name += "x";
  }
  name.resize(length);
  return name;
}

TEST(ParsePodLogDir, TakesTheKubeletsName) {
  const auto dir = parse_pod_log_dir(pod_dir("kube-system", "coredns-5d78c9869d-8xq2n", kUid));
  ASSERT_TRUE(dir);
  EXPECT_EQ(*dir, (PodLogDir{"kube-system", "coredns-5d78c9869d-8xq2n", kUid}));
}

TEST(ParsePodLogDir, StaticPodUidIsAnyText) {
  const auto dir = parse_pod_log_dir("kube-system_etcd-node-1.example.com_6c3ee2e5b1c9a8f7d6e5");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->pod, "etcd-node-1.example.com");
  EXPECT_EQ(dir->pod_uid, "6c3ee2e5b1c9a8f7d6e5");
}

TEST(ParsePodLogDir, RefusesAnythingButThreeParts) {
  for (const char* name : {"", ".", "..", "default", "default_web", "default_web_uid_extra",
                           "_web_uid", "default__uid", "default_web_", "__", "default_web_uid_"}) {
    EXPECT_FALSE(parse_pod_log_dir(name)) << name;
  }
}

TEST(ParseContainerLogLink, TakesTheKubeletsName) {
  const auto link = parse_container_log_link(
      container_link("coredns-5d78c9869d-8xq2n", "kube-system", "coredns", kId));
  ASSERT_TRUE(link);
  EXPECT_EQ(*link, (ContainerLogLink{"coredns-5d78c9869d-8xq2n", "kube-system", "coredns", kId}));
}

TEST(ParseContainerLogLink, ContainerNameWithDashesSplitsAtTheLastDash) {
  const auto link = parse_container_log_link(container_link("web-0", "shop", "istio-proxy", kId));
  ASSERT_TRUE(link);
  EXPECT_EQ(link->container, "istio-proxy");
  EXPECT_EQ(link->id_prefix, kId);
}

TEST(ParseContainerLogLink, LongPodNameCutsTheIdAt251Bytes) {
  const std::string pod = long_pod_name(200);
  const std::string name = container_link(pod, "analytics", "worker", kId);
  ASSERT_EQ(name.size(), 255u);
  const auto link = parse_container_log_link(name);
  ASSERT_TRUE(link);
  const size_t kept = 251 - (pod.size() + 1 + 9 + 1 + 6 + 1);
  EXPECT_EQ(link->pod, pod);
  EXPECT_EQ(link->namespace_name, "analytics");
  EXPECT_EQ(link->container, "worker");
  EXPECT_EQ(link->id_prefix, kId.substr(0, kept));
}

TEST(ParseContainerLogLink, NameOfExactly251BytesWithTheWholeId) {
  // 251 = pod + "_default_app-" (13) + 64
  const std::string name = container_link(long_pod_name(174), "default", "app", kId);
  ASSERT_EQ(name.size(), 255u);
  const auto link = parse_container_log_link(name);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->id_prefix, kId);
}

TEST(ParseContainerLogLink, CutInsideTheContainerNameIsIgnored) {
  // The cut leaves "si" of "sidecar": no id at all.
  const std::string pod = long_pod_name(240);
  EXPECT_FALSE(parse_container_log_link(container_link(pod, "default", "sidecar", kId)));
  // The cut falls just after the dash: an empty id.
  EXPECT_FALSE(parse_container_log_link(container_link(long_pod_name(238), "default", "app", kId)));
}

TEST(ParseContainerLogLink, ShortIdOnlyWhenCut) {
  EXPECT_FALSE(parse_container_log_link("web-0_shop_app-" + kId.substr(0, 63) + ".log"));
  EXPECT_FALSE(parse_container_log_link("web-0_shop_app-" + kId.substr(0, 12) + ".log"));
}

TEST(ParseContainerLogLink, RefusesMalformedNames) {
  for (const std::string& name : {
           std::string(""),
           std::string(".log"),
           "web-0_shop_app-" + kId,             // no .log
           "web-0_shop_app-" + kId + ".log.1",  // rotated, not a link
           "web-0_shop_app-" + kId + "0.log",   // 65 digits
           "web-0_shop_app-" + std::string(64, 'A') + ".log",
           "web-0_shop_app-" + std::string(64, 'g') + ".log",
           "web-0_shop_app" + kId + ".log",     // no dash
           "web-0_shop_-" + kId + ".log",       // no container
           std::string("web-0_shop_app-.log"),  // no id
           "shop_app-" + kId + ".log",          // two parts
           "x_web-0_shop_app-" + kId + ".log",  // four parts
           "_shop_app-" + kId + ".log",
           "web-0__app-" + kId + ".log",
       }) {
    EXPECT_FALSE(parse_container_log_link(name)) << name;
  }
}

TEST(ParseNames, GlobAndBracketCharactersAreTakenLiterally) {
  const auto dir = parse_pod_log_dir("db-prod_db-[1]*?_" + kUid);
  ASSERT_TRUE(dir);
  EXPECT_EQ(*dir, (PodLogDir{"db-prod", "db-[1]*?", kUid}));
  const auto link = parse_container_log_link(container_link("db-*", "db-[prod]", "pg[0]", kId));
  ASSERT_TRUE(link);
  EXPECT_EQ(*link, (ContainerLogLink{"db-*", "db-[prod]", "pg[0]", kId}));

  NameTable table;
  table.add_pod_dir("db-prod_db-1_" + kUid);
  table.add_pod_dir("db-*_db-[1]_" + kOtherUid);
  table.add_container_link(container_link("db-1", "db-prod", "postgres", kId));
  EXPECT_EQ(named(table.find(kUid, kId)), (Workload{"db-prod", "db-1", "postgres"}));
  EXPECT_EQ(named(table.find(kOtherUid, "")), (Workload{"db-*", "db-[1]", ""}));
}

class NameTableTest : public testing::Test {
 protected:
  void SetUp() override {
    table_.add_pod_dir(pod_dir("shop", "web-7d9f8b6c5-x2k4q", kUid));
    table_.add_container_link(container_link("web-7d9f8b6c5-x2k4q", "shop", "nginx", kId));
  }

  NameTable table_;
};

TEST_F(NameTableTest, ContainerIsFoundByItsId) {
  EXPECT_EQ(named(table_.find(kUid, kId)), (Workload{"shop", "web-7d9f8b6c5-x2k4q", "nginx"}));
}

TEST_F(NameTableTest, PodCgroupHasNoContainer) {
  EXPECT_EQ(named(table_.find(kUid, "")), (Workload{"shop", "web-7d9f8b6c5-x2k4q", ""}));
}

TEST_F(NameTableTest, PauseContainerHasPodNamesOnly) {
  const std::string pause = std::string(64, 'e');
  EXPECT_EQ(named(table_.find(kUid, pause)), (Workload{"shop", "web-7d9f8b6c5-x2k4q", ""}));
}

TEST_F(NameTableTest, NothingKnownIsNull) {
  EXPECT_EQ(table_.find(kOtherUid, ""), nullptr);
  EXPECT_EQ(table_.find(kOtherUid, kNewId), nullptr);
}

TEST_F(NameTableTest, LinkNamesThePodWhenItsDirectoryIsMissing) {
  table_.add_container_link(container_link("api-0", "billing", "server", kNewId));
  EXPECT_EQ(named(table_.find(kOtherUid, kNewId)), (Workload{"billing", "api-0", "server"}));
}

TEST_F(NameTableTest, LinkThatDisagreesWithThePodDirectoryIsNotItsContainer) {
  table_.add_container_link(container_link("api-0", "billing", "server", kNewId));
  EXPECT_EQ(named(table_.find(kUid, kNewId)), (Workload{"shop", "web-7d9f8b6c5-x2k4q", ""}));
}

TEST_F(NameTableTest, RepeatedLookupsShareOneWorkload) {
  const auto first = table_.find(kUid, kId);
  EXPECT_EQ(table_.find(kUid, kId), first);
  const auto pod = table_.find(kUid, "");
  EXPECT_EQ(table_.find(kUid, std::string(64, 'e')), pod);
  // Listing the same names again (a second add) changes nothing.
  table_.add_pod_dir(pod_dir("shop", "web-7d9f8b6c5-x2k4q", kUid));
  table_.add_container_link(container_link("web-7d9f8b6c5-x2k4q", "shop", "nginx", kId));
  EXPECT_EQ(table_.find(kUid, kId), first);
  EXPECT_EQ(table_.find(kUid, ""), pod);
  EXPECT_EQ(table_.pod_count(), 1u);
  EXPECT_EQ(table_.link_count(), 1u);
}

TEST_F(NameTableTest, RestartedContainerResolvesBothIdsWhileBothLinksExist) {
  const std::string old_link = container_link("web-7d9f8b6c5-x2k4q", "shop", "nginx", kId);
  table_.add_container_link(container_link("web-7d9f8b6c5-x2k4q", "shop", "nginx", kNewId));
  const Workload nginx{"shop", "web-7d9f8b6c5-x2k4q", "nginx"};
  EXPECT_EQ(named(table_.find(kUid, kId)), nginx);
  EXPECT_EQ(named(table_.find(kUid, kNewId)), nginx);

  table_.remove_container_link(old_link);
  EXPECT_EQ(named(table_.find(kUid, kId)), (Workload{"shop", "web-7d9f8b6c5-x2k4q", ""}));
  EXPECT_EQ(named(table_.find(kUid, kNewId)), nginx);
}

TEST_F(NameTableTest, RemovalForgets) {
  table_.remove_container_link(container_link("web-7d9f8b6c5-x2k4q", "shop", "nginx", kId));
  EXPECT_EQ(named(table_.find(kUid, kId)), (Workload{"shop", "web-7d9f8b6c5-x2k4q", ""}));
  table_.remove_pod_dir(pod_dir("shop", "web-7d9f8b6c5-x2k4q", kUid));
  EXPECT_EQ(table_.find(kUid, kId), nullptr);
  EXPECT_EQ(table_.pod_count(), 0u);
  EXPECT_EQ(table_.link_count(), 0u);
}

TEST_F(NameTableTest, RemovingANameThatDoesNotMatchTheEntryKeepsIt) {
  table_.remove_pod_dir(pod_dir("other", "web-7d9f8b6c5-x2k4q", kUid));
  table_.remove_container_link(container_link("web-7d9f8b6c5-x2k4q", "shop", "php", kId));
  table_.remove_container_link(container_link("unknown", "shop", "nginx", kNewId));
  EXPECT_EQ(named(table_.find(kUid, kId)), (Workload{"shop", "web-7d9f8b6c5-x2k4q", "nginx"}));
}

TEST_F(NameTableTest, MalformedNamesAreIgnored) {
  for (const std::string& name :
       {std::string("lost+found"), std::string("a_b"), "a_b_c_" + kOtherUid, std::string("")}) {
    table_.add_pod_dir(name);
    table_.remove_pod_dir(name);
  }
  for (const std::string& name : {std::string("README"), "web-0_shop_nginx-" + kNewId,
                                  std::string("web-0_shop_nginx-abc.log")}) {
    table_.add_container_link(name);
    table_.remove_container_link(name);
  }
  EXPECT_EQ(table_.pod_count(), 1u);
  EXPECT_EQ(table_.link_count(), 1u);
  EXPECT_EQ(named(table_.find(kUid, kId)), (Workload{"shop", "web-7d9f8b6c5-x2k4q", "nginx"}));
}

TEST_F(NameTableTest, ClearForgetsEverything) {
  table_.clear();
  EXPECT_EQ(table_.find(kUid, kId), nullptr);
  EXPECT_EQ(table_.find(kUid, ""), nullptr);
}

// Links of pods whose names are long enough for the kubelet to cut the container id.
class CutLinkTest : public testing::Test {
 protected:
  const std::string pod_ = long_pod_name(200);
  NameTable table_;
};

TEST_F(CutLinkTest, MatchesByIdPrefix) {
  table_.add_pod_dir(pod_dir("analytics", pod_, kUid));
  table_.add_container_link(container_link(pod_, "analytics", "worker", kId));
  const auto found = table_.find(kUid, kId);
  EXPECT_EQ(named(found), (Workload{"analytics", pod_, "worker"}));
  EXPECT_EQ(table_.find(kUid, kId), found);
  EXPECT_EQ(named(table_.find(kUid, kNewId)), (Workload{"analytics", pod_, ""}));
}

TEST_F(CutLinkTest, MatchesWithoutThePodDirectory) {
  table_.add_container_link(container_link(pod_, "analytics", "worker", kId));
  EXPECT_EQ(named(table_.find(kUid, kId)), (Workload{"analytics", pod_, "worker"}));
}

TEST_F(CutLinkTest, LinkOfAnotherPodDoesNotMatch) {
  table_.add_pod_dir(pod_dir("analytics", pod_, kUid));
  const std::string other_pod = long_pod_name(199) + "z";
  table_.add_container_link(container_link(other_pod, "analytics", "worker", kId));
  EXPECT_EQ(named(table_.find(kUid, kId)), (Workload{"analytics", pod_, ""}));
}

TEST_F(CutLinkTest, RemovalForgets) {
  const std::string link = container_link(pod_, "analytics", "worker", kId);
  table_.add_container_link(link);
  table_.add_container_link(link);
  EXPECT_EQ(table_.link_count(), 1u);
  table_.remove_container_link(link);
  EXPECT_EQ(table_.link_count(), 0u);
  EXPECT_EQ(table_.find(kUid, kId), nullptr);
}

// Two containers of one pod whose cut ids (two digits here) are both prefixes of the id.
TEST(CutLinkAmbiguity, TwoContainersOfThePodMatchingLeaveTheContainerUnknown) {
  const std::string pod = long_pod_name(236);
  const std::string app_id = "ab" + kId.substr(2);
  const std::string web_id = "ab" + kNewId.substr(2);
  NameTable table;
  table.add_pod_dir(pod_dir("default", pod, kUid));
  table.add_container_link(container_link(pod, "default", "app", app_id));
  table.add_container_link(container_link(pod, "default", "web", web_id));
  ASSERT_EQ(table.link_count(), 2u);
  EXPECT_EQ(named(table.find(kUid, app_id)), (Workload{"default", pod, ""}));
  EXPECT_EQ(table.find(kUid, app_id), table.find(kUid, ""));

  table.remove_pod_dir(pod_dir("default", pod, kUid));
  const auto without_dir = table.find(kUid, web_id);
  EXPECT_EQ(named(without_dir), (Workload{"default", pod, ""}));
  EXPECT_EQ(table.find(kUid, web_id), without_dir);

  table.remove_container_link(container_link(pod, "default", "web", web_id));
  EXPECT_EQ(named(table.find(kUid, app_id)), (Workload{"default", pod, "app"}));
}

TEST(CutLinkAmbiguity, LinksOfTwoPodsWithoutTheirDirectoriesNameNothing) {
  const std::string pod_a = long_pod_name(236);
  const std::string pod_b = long_pod_name(235) + "b";
  NameTable table;
  table.add_container_link(container_link(pod_a, "default", "app", kId));
  table.add_container_link(container_link(pod_b, "default", "app", kId));
  EXPECT_EQ(table.find(kUid, kId), nullptr);
  // The pod's directory says which of the two it is.
  table.add_pod_dir(pod_dir("default", pod_b, kUid));
  EXPECT_EQ(named(table.find(kUid, kId)), (Workload{"default", pod_b, "app"}));
}

// A restart gives the same container a new id, but its name is cut at the same length: when
// both ids begin alike, both links have one name, so the directory holds one link.
TEST(CutLinkAmbiguity, RestartCutToTheSameNameIsOneLink) {
  const std::string pod = long_pod_name(236);
  const std::string first = "ab" + kId.substr(2);
  const std::string second = "ab" + kNewId.substr(2);
  NameTable table;
  table.add_pod_dir(pod_dir("default", pod, kUid));
  table.add_container_link(container_link(pod, "default", "app", first));
  table.add_container_link(container_link(pod, "default", "app", second));
  EXPECT_EQ(table.link_count(), 1u);
  EXPECT_EQ(named(table.find(kUid, second)), (Workload{"default", pod, "app"}));
}

}  // namespace
}  // namespace cgmm::k8s
