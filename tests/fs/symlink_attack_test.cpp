// Anyone who can create entries under the managed parent (a container runtime, a compromised
// workload with a delegated cgroup) may plant symlinks there. The daemon runs as root, so a
// symlink followed for writing would let them have it overwrite any file on the host. These tests
// plant every kind of symlink in a fixture tree and run a whole scan-and-reclaim pass over it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>

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
      names.push_back(leaf.name);
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
  // Between the scan and the reclaim, the honest leaf's control file becomes a symlink and the
  // leaf directory itself is renamed away and replaced by a symlink to outside/.
  fs::remove(t_.root() / "p/honest/memory.force_empty");
  fs::create_symlink(t_.root() / "outside/target", t_.root() / "p/honest/memory.force_empty");
  fs::rename(t_.root() / "p/honest", t_.root() / "p/moved");
  fs::create_directory_symlink(t_.root() / "outside", t_.root() / "p/honest");

  Reclaimer reclaimer(Version::kV1);
  for (core::LeafSample& leaf : leaves) {
    // The leaf is reopened from the parent without following symlinks and checked against the
    // inode the scan saw: the swapped-in symlink is refused before any write.
    if (auto dir = scanner.leaf_dir().open(leaf.name, leaf.inode)) {
      (void)reclaimer.reclaim(dir->get(), 0);
    }
  }
  expect_outside_untouched();
}

TEST_F(SymlinkAttack, ParentGivenThroughASymlinkIsRefused) {
  fs::create_directory_symlink(t_.root() / "p", t_.root() / "plink");
  auto opened = open_parent((t_.root() / "plink").string());
  ASSERT_TRUE(std::holds_alternative<ParentError>(opened));
  EXPECT_THAT(std::get<ParentError>(opened).message, ::testing::HasSubstr("symlink"));
}

}  // namespace
}  // namespace cgmm::cgroup
