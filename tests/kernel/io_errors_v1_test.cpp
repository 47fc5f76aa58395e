// Errnos of real cgroup v1 files through the daemon's I/O layer, and the daemon's answer to
// errnos injected into its own reclaim write.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>

#include "cgroup/files.h"
#include "cgroup/hierarchy.h"
#include "cgroup/io.h"
#include "cgroup/leaf_files.h"
#include "cgroup/leaf_scan.h"
#include "cgroup/reclaim.h"
#include "support/daemon_process.h"
#include "support/json_log.h"
#include "support/kernel_tree.h"
#include "support/write_gate.h"

namespace cgmm::testing {
namespace {

using cgroup::Version;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Runs `body` in a forked child; its result is the exit code.
int in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

cgroup::Fd open_cgroup(const std::string& path) {
  auto fd = cgroup::open_dir_at(AT_FDCWD, path.c_str());
  if (!fd) {
    throw std::runtime_error("cannot open " + path);
  }
  return std::move(*fd);
}

class IoErrorsV1 : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    tree_->make("leaf", 100 * kMiB);
  }
  std::unique_ptr<KernelTree> tree_;
};

TEST_F(IoErrorsV1, ARemovedCgroupAnswersVanishedOnEveryPath) {
  cgroup::Fd dir = open_cgroup(tree_->path("leaf"));
  cgroup::Fd stat(::openat(dir.get(), cgroup::files::kMemoryStat, O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(stat);
  tree_->remove("leaf");

  std::string buf;
  auto by_dir = cgroup::read_leaf_stats(dir.get(), Version::kV1, {}, buf);
  ASSERT_FALSE(by_dir.ok());
  EXPECT_TRUE(by_dir.error().vanished()) << by_dir.error().describe("leaf");
  auto by_open_file = cgroup::pread_all(stat.get(), cgroup::files::kMemoryStat, buf);
  ASSERT_FALSE(by_open_file.ok());
  EXPECT_TRUE(by_open_file.error().vanished()) << by_open_file.error().describe("leaf");
  auto reclaim = cgroup::Reclaimer(Version::kV1).reclaim(dir.get(), 0);
  ASSERT_FALSE(reclaim.ok());
  EXPECT_TRUE(reclaim.error().vanished()) << reclaim.error().describe("leaf");
  std::cout << "removed cgroup: open via dir fd " << std::strerror(by_dir.error().err)
            << ", read of an open memory.stat " << std::strerror(by_open_file.error().err)
            << ", force_empty " << std::strerror(reclaim.error().err) << "\n";
}

TEST_F(IoErrorsV1, AnUnprivilegedUserGetsEaccesOnForceEmptyButReadsStats) {
  cgroup::Fd dir = open_cgroup(tree_->path("leaf"));
  const int code = in_child([&] {
    constexpr uid_t kNobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0) {
      return 200;
    }
    std::string buf;
    if (!cgroup::read_leaf_stats(dir.get(), Version::kV1, {}, buf).ok()) {
      return 201;
    }
    auto st = cgroup::Reclaimer(Version::kV1).reclaim(dir.get(), 0);
    return st.ok() ? 0 : st.error().err;
  });
  EXPECT_EQ(code, EACCES);
}

TEST_F(IoErrorsV1, AReadOnlyMountOfTheHierarchyIsErofsForTheReclaimOnly) {
  std::string mnt = (std::filesystem::temp_directory_path() / "cgmm-ro-XXXXXX").string();
  ASSERT_NE(::mkdtemp(mnt.data()), nullptr);
  const int code = in_child([&] {
    // A private mount namespace: the bind mount dies with this process.
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount(tree_->root().c_str(), mnt.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(nullptr, mnt.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
      return 200;
    }
    auto opened = cgroup::open_parent(mnt);
    auto* parent = std::get_if<cgroup::Parent>(&opened);
    if (!parent) {
      return 201;
    }
    std::vector<core::LeafSample> leaves;
    cgroup::LeafScanner scanner(*parent);
    scanner.scan(leaves);
    if (leaves.size() != 1 || !leaves[0].stats) {
      return 202;
    }
    auto dir = scanner.leaf_dir().open(leaves[0].name, leaves[0].inode);
    if (!dir) {
      return 203;
    }
    auto st = cgroup::Reclaimer(Version::kV1).reclaim(dir->get(), 0);
    return st.ok() ? 0 : st.error().err;
  });
  ::rmdir(mnt.c_str());
  EXPECT_EQ(code, EROFS);
}

// The daemon's reclaim write fails with an errno the kernel might answer (EBUSY: force_empty of
// old kernels with tasks inside; EAGAIN: memory.reclaim's partial answer, an error on v1;
// EINVAL): logged as a failed reclaim, retried after the cooldown, and other leaves go on.
class InjectedReclaimErrno : public ::testing::TestWithParam<int> {};

TEST_P(InjectedReclaimErrno, IsLoggedRetriedAfterTheCooldownAndHarmsNoOtherLeaf) {
  CGMM_REQUIRE_KERNEL();
  const int err = GetParam();
  KernelTree tree;
  tree.make("bad", 100 * kMiB);
  tree.make("good", 100 * kMiB);
  tree.fill("bad", 30);
  tree.fill("good", 30);
  FdChannel channel;
  DaemonProcess d({"--parent", tree.root(), "--threshold", "10MiB", "--interval", "100ms",
                   "--cooldown", "1s", "--log-format", "json"},
                  {}, WriteGate::installer(channel));
  WriteGate gate(channel);
  gate.fail("/bad/memory.force_empty", err);
  // The first write may have slipped through before fail() was set; wait for failed ones.
  ASSERT_TRUE(eventually([&] { return events(d.err(), "reclaim_failed", "/bad").size() >= 2; },
                         seconds(10)))
      << d.err();
  EXPECT_LT(tree.cache("good"), 5 * kMiB);
  const auto failed = events(d.err(), "reclaim_failed", "/bad");
  EXPECT_THAT(failed[0]["error"].get<std::string>(),
              HasSubstr("failed to write memory.force_empty of "));
  EXPECT_THAT(failed[0]["error"].get<std::string>(), HasSubstr(std::strerror(err)));
  EXPECT_EQ(failed[0]["level"], "warning");
  EXPECT_TRUE(d.running());
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(5)), 0);
}

std::string errno_name(const ::testing::TestParamInfo<int>& param) {
  return param.param == EBUSY ? "EBUSY" : param.param == EAGAIN ? "EAGAIN" : "EINVAL";
}

INSTANTIATE_TEST_SUITE_P(Errnos, InjectedReclaimErrno, ::testing::Values(EBUSY, EAGAIN, EINVAL),
                         errno_name);

}  // namespace
}  // namespace cgmm::testing
