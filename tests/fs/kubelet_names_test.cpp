#include "app/kubelet_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>

#include "support/temp_tree.h"

namespace cgmm::core {

void PrintTo(const Workload& w, std::ostream* os) {
  *os << "{namespace=" << w.namespace_name << " pod=" << w.pod << " container=" << w.container
      << "}";
}

}  // namespace cgmm::core

namespace cgmm::app {
namespace {

namespace fs = std::filesystem;
using core::Workload;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kUid = "3f2a9c1e-7b4d-4e8f-9a0b-1c2d3e4f5a6b";
const std::string kOtherUid = "8e7d6c5b-4a39-4281-b7c6-d5e4f3a2b1c0";
const std::string kId = "9d4c1b7e0f2a3b5c6d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c";
const std::string kOtherId = "51a7f3c2e9b84d06a1c3e5f7092b4d6f8a0c2e4f6b8d0a2c4e6f8b0d2f4a6c8e";
const std::string kPauseId = std::string(64, 'e');

k8s::PodIdentity container(const std::string& uid, const std::string& id) {
  return {uid, id, k8s::QosClass::kBurstable};
}

std::optional<Workload> named(const std::shared_ptr<const Workload>& w) {
  return w ? std::optional<Workload>(*w) : std::nullopt;
}

// /var/log/pods and /var/log/containers in a temp dir, written the way the kubelet writes them.
class KubeletTree {
 public:
  KubeletTree() {
    tree_.mkdir("var/log/pods");
    tree_.mkdir("var/log/containers");
  }

  std::string pods() const { return (tree_.root() / "var/log/pods").string(); }
  std::string containers() const { return (tree_.root() / "var/log/containers").string(); }
  fs::path root() const { return tree_.root(); }

  static std::string pod_dir(const std::string& ns, const std::string& pod,
                             const std::string& uid) {
    return ns + "_" + pod + "_" + uid;
  }

  static std::string link_name(const std::string& ns, const std::string& pod,
                               const std::string& container, const std::string& id) {
    std::string name = pod + "_" + ns + "_" + container + "-" + id;
    if (name.size() > 251) {
      name.resize(251);
    }
    return name + ".log";
  }

  // The pod's directory with a subdirectory and first log file for each container.
  void add_pod(const std::string& ns, const std::string& pod, const std::string& uid,
               std::initializer_list<std::string> containers) {
    const std::string dir = "var/log/pods/" + pod_dir(ns, pod, uid);
    tree_.mkdir(dir);
    for (const std::string& c : containers) {
      tree_.write(dir + "/" + c + "/0.log", "2024-05-01T10:00:00.000000000Z stdout F started\n");
    }
  }

  void add_log(const std::string& ns, const std::string& pod, const std::string& uid,
               const std::string& container, int restart) {
    tree_.write("var/log/pods/" + pod_dir(ns, pod, uid) + "/" + container + "/" +
                    std::to_string(restart) + ".log",
                "2024-05-01T10:05:00.000000000Z stdout F restarted\n");
  }

  // The container's symlink, pointing at its log file in the pod's directory.
  void link(const std::string& ns, const std::string& pod, const std::string& uid,
            const std::string& container, const std::string& id, int restart = 0) {
    const fs::path target = tree_.root() / "var/log/pods" / pod_dir(ns, pod, uid) / container /
                            (std::to_string(restart) + ".log");
    fs::create_symlink(target, fs::path(containers()) / link_name(ns, pod, container, id));
  }

  void unlink(const std::string& ns, const std::string& pod, const std::string& container,
              const std::string& id) {
    fs::remove(fs::path(containers()) / link_name(ns, pod, container, id));
  }

  void remove_pod(const std::string& ns, const std::string& pod, const std::string& uid) {
    fs::remove_all(fs::path(pods()) / pod_dir(ns, pod, uid));
  }

 private:
  testing::TempTree tree_;
};

// Waits (bounded) for the part's descriptor to be readable, then runs it, as the loop would.
// False if nothing arrived.
bool wait_and_run(KubeletNames& names) {
  pollfd pfd{names.fd(), POLLIN, 0};
  if (pfd.fd < 0 || ::poll(&pfd, 1, 5000) != 1) {
    return false;
  }
  names.run(core::TimePoint{}, true);
  return true;
}

TEST(KubeletNames, FindsNamesAtStart) {
  KubeletTree t;
  t.add_pod("shop", "web-7d9f8b6c5-x2k4q", kUid, {"nginx", "exporter"});
  t.link("shop", "web-7d9f8b6c5-x2k4q", kUid, "nginx", kId);
  KubeletNames names(t.pods(), t.containers());

  EXPECT_THAT(names.unavailable(), IsEmpty());
  EXPECT_GE(names.fd(), 0);
  EXPECT_EQ(named(names.find(container(kUid, kId))),
            (Workload{"shop", "web-7d9f8b6c5-x2k4q", "nginx"}));
  EXPECT_EQ(named(names.find(container(kUid, kPauseId))),
            (Workload{"shop", "web-7d9f8b6c5-x2k4q", ""}));
  EXPECT_EQ(named(names.find(container(kUid, ""))), (Workload{"shop", "web-7d9f8b6c5-x2k4q", ""}));
  EXPECT_EQ(names.find(container(kOtherUid, kOtherId)), nullptr);
}

TEST(KubeletNames, ConmonIsNamedByItsPodOnly) {
  KubeletTree t;
  t.add_pod("shop", "web-0", kUid, {"nginx"});
  t.link("shop", "web-0", kUid, "nginx", kId);
  KubeletNames names(t.pods(), t.containers());
  k8s::PodIdentity conmon = container(kUid, kId);
  conmon.runtime = true;
  EXPECT_EQ(named(names.find(conmon)), (Workload{"shop", "web-0", ""}));
}

TEST(KubeletNames, FindsPodAndLinkCreatedAfterStart) {
  KubeletTree t;
  KubeletNames names(t.pods(), t.containers());
  EXPECT_EQ(names.find(container(kUid, kId)), nullptr);

  t.add_pod("billing", "api-0", kUid, {"server"});
  t.link("billing", "api-0", kUid, "server", kId);
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(named(names.find(container(kUid, kId))), (Workload{"billing", "api-0", "server"}));
}

TEST(KubeletNames, RestartedContainerKeepsItsNameUnderBothIds) {
  KubeletTree t;
  t.add_pod("billing", "api-0", kUid, {"server"});
  t.link("billing", "api-0", kUid, "server", kId);
  KubeletNames names(t.pods(), t.containers());

  t.add_log("billing", "api-0", kUid, "server", 1);
  t.link("billing", "api-0", kUid, "server", kOtherId, 1);
  ASSERT_TRUE(wait_and_run(names));
  const Workload server{"billing", "api-0", "server"};
  EXPECT_EQ(named(names.find(container(kUid, kId))), server);
  EXPECT_EQ(named(names.find(container(kUid, kOtherId))), server);

  t.unlink("billing", "api-0", "server", kId);
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(named(names.find(container(kUid, kId))), (Workload{"billing", "api-0", ""}));
  EXPECT_EQ(named(names.find(container(kUid, kOtherId))), server);
}

TEST(KubeletNames, RemovalForgets) {
  KubeletTree t;
  t.add_pod("billing", "api-0", kUid, {"server"});
  t.link("billing", "api-0", kUid, "server", kId);
  KubeletNames names(t.pods(), t.containers());
  ASSERT_NE(names.find(container(kUid, kId)), nullptr);

  t.unlink("billing", "api-0", "server", kId);
  t.remove_pod("billing", "api-0", kUid);
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(names.find(container(kUid, kId)), nullptr);
  EXPECT_EQ(names.table().pod_count(), 0u);
  EXPECT_EQ(names.table().link_count(), 0u);
}

TEST(KubeletNames, DirectoryRenamedInIsFoundAndRenamedOutForgotten) {
  KubeletTree t;
  KubeletNames names(t.pods(), t.containers());
  const fs::path staging = t.root() / "staging";
  fs::create_directories(staging / KubeletTree::pod_dir("shop", "web-0", kUid) / "nginx");

  fs::rename(staging / KubeletTree::pod_dir("shop", "web-0", kUid),
             fs::path(t.pods()) / KubeletTree::pod_dir("shop", "web-0", kUid));
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(named(names.find(container(kUid, ""))), (Workload{"shop", "web-0", ""}));

  fs::rename(fs::path(t.pods()) / KubeletTree::pod_dir("shop", "web-0", kUid),
             staging / KubeletTree::pod_dir("shop", "web-0", kUid));
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(names.find(container(kUid, "")), nullptr);
}

TEST(KubeletNames, EntriesOfTheWrongKindAreIgnored) {
  KubeletTree t;
  // A file named like a pod's directory, a directory named like a link.
  std::ofstream(fs::path(t.pods()) / KubeletTree::pod_dir("shop", "web-0", kUid)) << "x";
  fs::create_directory(fs::path(t.containers()) /
                       KubeletTree::link_name("shop", "web-0", "nginx", kId));
  KubeletNames names(t.pods(), t.containers());
  std::ofstream(fs::path(t.pods()) / KubeletTree::pod_dir("shop", "web-1", kOtherUid)) << "x";
  fs::create_directory(fs::path(t.containers()) /
                       KubeletTree::link_name("shop", "web-1", "nginx", kOtherId));
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(names.table().pod_count(), 0u);
  EXPECT_EQ(names.table().link_count(), 0u);
}

TEST(KubeletNames, MissingPodsDirectoryIsReportedOnce) {
  KubeletTree t;
  fs::remove(t.pods());
  t.link("shop", "web-0", kUid, "nginx", kId);
  KubeletNames names(t.pods(), t.containers());

  EXPECT_THAT(names.unavailable(),
              ElementsAre("pod names are not available: " + t.pods() +
                          ": No such file or directory; leaves are named by their cgroup path"));
  EXPECT_GE(names.fd(), 0);
  EXPECT_EQ(named(names.find(container(kUid, kId))), (Workload{"shop", "web-0", "nginx"}));
}

TEST(KubeletNames, BothMissingLeaveNothingToWaitFor) {
  KubeletTree t;
  fs::remove(t.pods());
  fs::remove(t.containers());
  KubeletNames names(t.pods(), t.containers());
  ASSERT_EQ(names.unavailable().size(), 2u);
  EXPECT_THAT(names.unavailable()[1], HasSubstr("container names are not available: " +
                                                t.containers() + ": No such file or directory"));
  EXPECT_EQ(names.fd(), -1);
  names.run(core::TimePoint{}, false);
  EXPECT_EQ(names.find(container(kUid, kId)), nullptr);
}

TEST(KubeletNames, PathThatIsNotADirectoryIsUnavailable) {
  KubeletTree t;
  fs::remove(t.containers());
  std::ofstream(t.containers()) << "not a directory";
  KubeletNames names(t.pods(), t.containers());
  EXPECT_THAT(names.unavailable(), ElementsAre(HasSubstr(": Not a directory;")));
}

TEST(KubeletNames, WatchedDirectoryRemovedTakesItsNamesAlong) {
  KubeletTree t;
  t.add_pod("shop", "web-0", kUid, {"nginx"});
  t.link("shop", "web-0", kUid, "nginx", kId);
  KubeletNames names(t.pods(), t.containers());

  fs::remove_all(t.containers());
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(named(names.find(container(kUid, kId))), (Workload{"shop", "web-0", ""}));
  EXPECT_GE(names.fd(), 0);

  // A directory moved away keeps its watch, but is no longer the kubelet's.
  fs::rename(t.pods(), t.root() / "pods-moved");
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(names.find(container(kUid, kId)), nullptr);
  EXPECT_EQ(names.fd(), -1);
}

// More events than the inotify queue holds (fs.inotify.max_queued_events): the kernel drops the
// rest and says so; both directories are listed again.
TEST(KubeletNames, QueueOverflowListsEverythingAgain) {
  size_t max_queued = 0;
  std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> max_queued;
  if (max_queued == 0 || max_queued > 100000) {
    GTEST_SKIP() << "fs.inotify.max_queued_events is " << max_queued;
  }
  KubeletTree t;
  KubeletNames names(t.pods(), t.containers());
  t.add_pod("shop", "web-0", kUid, {"nginx"});
  t.link("shop", "web-0", kUid, "nginx", kId);
  for (size_t i = 0; i <= max_queued; ++i) {
    std::string id = std::to_string(i);
    id.insert(0, 64 - id.size(), '0');
    t.link("batch", "job-" + std::to_string(i), kOtherUid, "run", id);
  }
  ASSERT_TRUE(wait_and_run(names));
  EXPECT_EQ(named(names.find(container(kUid, kId))), (Workload{"shop", "web-0", "nginx"}));
  EXPECT_EQ(names.table().pod_count(), 1u);
  EXPECT_EQ(names.table().link_count(), max_queued + 2);
}

}  // namespace
}  // namespace cgmm::app
