// Anyone who can create entries under the managed parent (a container runtime, a compromised
// workload with a delegated cgroup) may plant symlinks there. The daemon runs as root, so a
// symlink followed for writing would let them have it overwrite any file on the host. These tests
// plant every kind of symlink in a fixture tree and run a whole scan-and-reclaim pass over it.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "cgroup/leaf_scan.h"
#include "cgroup/reclaim.h"
#include "support/temp_tree.h"

namespace cgmm::cgroup {
namespace {

namespace fs = std::filesystem;
using ::testing::UnorderedElementsAre;

constexpr const char* kPrecious = "precious file outside the cgroup tree\n";

// A tree under p/ with one honest leaf and three traps pointing at files in outside/, which stands
// for /etc or any host file.
class SymlinkAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.write("outside/memory.force_empty", kPrecious);
    t_.write("outside/memory.reclaim", kPrecious);
    t_.write("outside/target", kPrecious);
    t_.write("outside/memory.stat", "cache 999999999\nshmem 0\nhierarchical_memory_limit 1\n");

    t_.v1_cgroup("p/honest", 100);
    t_.write("p/honest/memory.force_empty", "");
    // A leaf directory that is a symlink to a directory outside.
    fs::create_directory_symlink(t_.root() / "outside", t_.root() / "p/dirlink");
    // A real leaf whose memory.stat is a symlink to stats that say "reclaim me".
    t_.mkdir("p/statlink");
    t_.write("p/statlink/memory.force_empty", "");
    fs::create_symlink(t_.root() / "outside/memory.stat", t_.root() / "p/statlink/memory.stat");
    // A real leaf over any threshold whose reclaim files point at a host file.
    t_.v1_cgroup("p/writelink", 999999999);
    fs::create_symlink(t_.root() / "outside/target", t_.root() / "p/writelink/memory.force_empty");
    fs::create_symlink(t_.root() / "outside/target", t_.root() / "p/writelink/memory.reclaim");
  }

  void expect_outside_untouched() {
    for (const char* f :
         {"outside/memory.force_empty", "outside/memory.reclaim", "outside/target"}) {
      EXPECT_EQ(t_.read(f), kPrecious) << f;
    }
  }

  testing::TempTree t_;
};

TEST_F(SymlinkAttack, ScanAndReclaimOfEveryLeafLeavesOutsideFilesUnchanged) {
  for (Version version : {Version::kV1, Version::kV2}) {
    Parent parent = t_.parent("p", version);
    LeafScanner scanner(parent);
    std::vector<core::LeafSample> leaves;
    scanner.scan(leaves);
    std::vector<std::string> names;
    for (const core::LeafSample& leaf : leaves) {
      names.emplace_back(leaf.name);
    }
    // The directory symlink is not a leaf; the leaf with a symlinked memory.stat is one that
    // cannot be read, never one with the planted numbers.
    EXPECT_THAT(names, UnorderedElementsAre("p/honest", "p/statlink", "p/writelink"));

    Reclaimer reclaimer(version);
    for (core::LeafSample& leaf : leaves) {
      if (leaf.name == "p/statlink") {
        EXPECT_FALSE(leaf.stats);
        EXPECT_EQ(leaf.error, "failed to open memory.stat of p/statlink: Too many levels of symbolic links");
      }
      // Reclaim every leaf, as if each were over its threshold.
      auto dir = scanner.leaf_dir().open(leaf.name, leaf.inode);
      ASSERT_TRUE(dir.ok()) << leaf.name;
      auto st = reclaimer.reclaim(dir->get(), 4096);
      if (leaf.name == "p/writelink") {
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().err, ELOOP);
      }
    }
    expect_outside_untouched();
  }
  EXPECT_EQ(t_.read("p/honest/memory.force_empty"), "0");
}

TEST_F(SymlinkAttack, ReclaimFileSwappedForASymlinkAfterTheScanIsNotFollowed) {
  Parent parent = t_.parent("p", Version::kV1);
  LeafScanner scanner(parent);
  std::vector<core::LeafSample> leaves;
  scanner.scan(leaves);
  ASSERT_EQ(leaves.size(), 3u);
  // Between the scan and the reclaim, the honest leaf's control file becomes a symlink and the
  // leaf directory itself is renamed away and replaced by a symlink to outside/.
  fs::remove(t_.root() / "p/honest/memory.force_empty");
  fs::create_symlink(t_.root() / "outside/target", t_.root() / "p/honest/memory.force_empty");
  fs::rename(t_.root() / "p/honest", t_.root() / "p/moved");
  fs::create_directory_symlink(t_.root() / "outside", t_.root() / "p/honest");

  // The attack is real: opens that follow symlinks reach the host files, through the leaf's
  // name (by path, or relative to the parent's descriptor as the daemon opens leaves) and through
  // the control file of the leaf's directory the scan saw, wherever it went.
  struct stat precious {};
  struct stat target {};
  ASSERT_EQ(::stat((t_.root() / "outside/memory.force_empty").c_str(), &precious), 0);
  ASSERT_EQ(::stat((t_.root() / "outside/target").c_str(), &target), 0);
  const int parent_fd = ::open((t_.root() / "p").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(parent_fd, 0);
  const std::pair<int, const struct stat*> naive[] = {
      {::open((t_.root() / "p/honest/memory.force_empty").c_str(), O_RDONLY | O_CLOEXEC),
       &precious},
      {::openat(parent_fd, "honest/memory.force_empty", O_RDONLY | O_CLOEXEC), &precious},
      {::openat(parent_fd, "moved/memory.force_empty", O_RDONLY | O_CLOEXEC), &target}};
  ::close(parent_fd);
  for (const auto& [fd, expected] : naive) {
    ASSERT_GE(fd, 0) << std::strerror(errno);
    struct stat reached {};
    ASSERT_EQ(::fstat(fd, &reached), 0);
    ::close(fd);
    EXPECT_EQ(reached.st_ino, expected->st_ino) << "a naive open did not reach outside/";
    EXPECT_EQ(reached.st_dev, expected->st_dev);
  }

  Reclaimer reclaimer(Version::kV1);
  for (core::LeafSample& leaf : leaves) {
    // The leaf is reopened from the parent without following symlinks and checked against the
    // inode the scan saw: the swapped-in symlink is refused before any write.
    auto dir = scanner.leaf_dir().open(leaf.name, leaf.inode);
    if (leaf.name == "p/honest") {
      EXPECT_FALSE(dir.ok()) << "the swapped-in symlink was opened as the leaf";
      continue;
    }
    // The leaves nobody swapped open as they did at the scan, and the one with a real control
    // file is reclaimed through it: the refusal above is not every open failing.
    ASSERT_TRUE(dir.ok()) << leaf.name;
    auto st = reclaimer.reclaim(dir->get(), 0);
    if (leaf.name == "p/statlink") {
      EXPECT_TRUE(st.ok()) << leaf.name;
    }
  }
  EXPECT_EQ(t_.read("p/statlink/memory.force_empty"), "0");
  expect_outside_untouched();
}

TEST_F(SymlinkAttack, ParentGivenThroughASymlinkIsRefused) {
  fs::create_directory_symlink(t_.root() / "p", t_.root() / "plink");
  auto opened = open_parent((t_.root() / "plink").string());
  ASSERT_TRUE(std::holds_alternative<ParentError>(opened));
  EXPECT_THAT(std::get<ParentError>(opened).message, ::testing::HasSubstr("symlink"));
  // The fixture is no cgroup filesystem, so its real directory is refused too, but not for being
  // a symlink: the refusal above is the symlink's.
  auto direct = open_parent((t_.root() / "p").string());
  ASSERT_TRUE(std::holds_alternative<ParentError>(direct));
  EXPECT_THAT(std::get<ParentError>(direct).message,
              ::testing::Not(::testing::HasSubstr("symlink")));
}

}  // namespace
}  // namespace cgmm::cgroup
