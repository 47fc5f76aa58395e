#include "cgroup/leaf_scan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <map>

#include "support/temp_tree.h"

namespace cgmm::cgroup {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// A sample with a name of its own: samples view the scanner's names, valid while it lives.
struct Scanned {
  std::string name;
  uint64_t inode = 0;
  std::optional<core::MemoryStats> stats;
  std::string error;
};

template <class Leaves>
std::vector<std::string> names(const Leaves& leaves) {
  std::vector<std::string> out;
  for (const auto& l : leaves) {
    out.emplace_back(l.name);
  }
  return out;
}

std::vector<Scanned> scan(const Parent& parent) {
  LeafScanner scanner(parent);
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  std::vector<Scanned> owned;
  for (const core::LeafSample& l : out) {
    owned.push_back({std::string(l.name), l.inode, l.stats, l.error});
  }
  return owned;
}

TEST(LeafScan, FindsNestedLeavesOnly) {
  testing::TempTree t;
  t.v1_cgroup("kubepods", 0);
  t.v1_cgroup("kubepods/burstable", 0);
  t.v1_cgroup("kubepods/burstable/pod1", 0);
  t.v1_cgroup("kubepods/burstable/pod1/c1", 11);
  t.v1_cgroup("kubepods/burstable/pod1/c2", 22);
  t.v1_cgroup("kubepods/pod2", 0);
  t.v1_cgroup("kubepods/pod2/c3", 33, 1000);

  auto leaves = scan(t.parent("kubepods", Version::kV1));
  EXPECT_THAT(names(leaves),
              UnorderedElementsAre("kubepods/burstable/pod1/c1", "kubepods/burstable/pod1/c2",
                                   "kubepods/pod2/c3"));
  for (const auto& l : leaves) {
    ASSERT_TRUE(l.stats) << l.name;
    EXPECT_NE(l.inode, 0u);
    if (l.name == "kubepods/pod2/c3") {
      EXPECT_EQ(l.stats->cache_bytes, 33u);
      EXPECT_EQ(l.stats->limit_bytes, 1000u);
    }
  }
}

TEST(LeafScan, ParentWithoutChildrenIsItsOwnLeaf) {
  testing::TempTree t;
  t.v1_cgroup("docker", 7);
  auto leaves = scan(t.parent("docker", Version::kV1));
  ASSERT_THAT(names(leaves), ElementsAre("docker"));
  EXPECT_EQ(leaves[0].stats->cache_bytes, 7u);
}

TEST(LeafScan, SymlinksAreNeverFollowed) {
  testing::TempTree t;
  t.v1_cgroup("p/c1", 1);
  t.v1_cgroup("elsewhere/c9", 9);
  std::filesystem::create_directory_symlink(t.root() / "elsewhere", t.root() / "p/link");
  std::filesystem::create_directory_symlink(t.root() / "elsewhere/c9", t.root() / "p/link2");
  // A leaf whose memory.stat is a symlink is not read through it.
  t.mkdir("p/c2");
  std::filesystem::create_symlink(t.root() / "elsewhere/c9/memory.stat",
                                  t.root() / "p/c2/memory.stat");

  auto leaves = scan(t.parent("p", Version::kV1));
  ASSERT_THAT(names(leaves), UnorderedElementsAre("p/c1", "p/c2"));
  for (const auto& l : leaves) {
    if (l.name == "p/c2") {
      EXPECT_FALSE(l.stats);
      EXPECT_EQ(l.error, "failed to open memory.stat of p/c2: Too many levels of symbolic links");
    }
  }
}

TEST(LeafScan, UnreadableStatsAreAnErrorNotALoss) {
  testing::TempTree t;
  t.v1_cgroup("p/good", 1);
  t.write("p/bad/memory.stat", "this is not memory.stat\n");
  auto leaves = scan(t.parent("p", Version::kV1));
  ASSERT_EQ(leaves.size(), 2u);
  for (const auto& l : leaves) {
    if (l.name == "p/bad") {
      EXPECT_EQ(l.error, "failed to parse memory.stat of p/bad: Bad message");
    } else {
      EXPECT_TRUE(l.stats);
    }
  }
}

TEST(LeafScan, VanishedLeafIsLeftOut) {
  testing::TempTree t;
  t.v1_cgroup("p/c1", 1);
  t.mkdir("p/c2");  // no memory.stat: reads as ENOENT, like a cgroup removed mid-scan
  EXPECT_THAT(names(scan(t.parent("p", Version::kV1))), ElementsAre("p/c1"));
}

TEST(LeafScan, RescanSeesChanges) {
  testing::TempTree t;
  t.v1_cgroup("p/c1", 1);
  Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent);
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  EXPECT_THAT(names(out), ElementsAre("p/c1"));
  t.v1_cgroup("p/c2", 2);
  std::filesystem::remove_all(t.root() / "p/c1");
  scanner.scan(out);
  EXPECT_THAT(names(out), ElementsAre("p/c2"));
}

// name -> inode of one scan's leaves, all of which must have read fine.
std::map<std::string, uint64_t> inodes(const std::vector<core::LeafSample>& leaves) {
  std::map<std::string, uint64_t> out;
  for (const auto& l : leaves) {
    EXPECT_TRUE(l.stats) << l.name;
    out[std::string(l.name)] = l.inode;
  }
  return out;
}

template <class Leaves>
uint64_t cache_of(const Leaves& leaves, const std::string& name) {
  for (const auto& l : leaves) {
    if (l.name == name && l.stats) {
      return l.stats->cache_bytes;
    }
  }
  ADD_FAILURE() << name << " not in the scan";
  return 0;
}

// The same changes seen by the incremental scanner (inotify) and by one that lists every
// directory on every scan.
class LeafScanRescan : public ::testing::TestWithParam<bool> {
 protected:
  LeafScanOptions options() const {
    LeafScanOptions o;
    o.watch = GetParam();
    o.full_walk_every = 0;  // only the first scan walks: later changes must be seen without it
    return o;
  }
};

TEST_P(LeafScanRescan, CreatedAndRemovedLeavesBetweenScans) {
  testing::TempTree t;
  t.v1_cgroup("p/burstable/pod1/c1", 1);
  t.v1_cgroup("p/burstable/pod1/c2", 2);
  t.v1_cgroup("p/burstable/pod2/c3", 3);
  Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent, options());
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  EXPECT_THAT(names(out), UnorderedElementsAre("p/burstable/pod1/c1", "p/burstable/pod1/c2",
                                               "p/burstable/pod2/c3"));

  // A new pod with a container, a container removed, a leaf that gains a child.
  t.v1_cgroup("p/burstable/pod3/c4", 4);
  std::filesystem::remove_all(t.root() / "p/burstable/pod1/c2");
  t.v1_cgroup("p/burstable/pod2/c3/inner", 5);
  scanner.scan(out);
  EXPECT_THAT(names(out), UnorderedElementsAre("p/burstable/pod1/c1", "p/burstable/pod2/c3/inner",
                                               "p/burstable/pod3/c4"));
  EXPECT_EQ(cache_of(out, "p/burstable/pod3/c4"), 4u);

  // A whole pod removed; a directory whose only child went is a leaf again.
  std::filesystem::remove_all(t.root() / "p/burstable/pod3");
  std::filesystem::remove_all(t.root() / "p/burstable/pod2/c3/inner");
  scanner.scan(out);
  EXPECT_THAT(names(out), UnorderedElementsAre("p/burstable/pod1/c1", "p/burstable/pod2/c3"));
  EXPECT_EQ(cache_of(out, "p/burstable/pod2/c3"), 3u);

  // Nothing changed: the same leaves again.
  scanner.scan(out);
  EXPECT_THAT(names(out), UnorderedElementsAre("p/burstable/pod1/c1", "p/burstable/pod2/c3"));
}

TEST_P(LeafScanRescan, RecreatedLeafUnderTheSameNameHasANewInode) {
  testing::TempTree t;
  t.v1_cgroup("p/pod/c1", 1);
  t.v1_cgroup("p/pod/c2", 2);
  Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent, options());
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  auto before = inodes(out);

  std::filesystem::remove_all(t.root() / "p/pod/c1");
  t.v1_cgroup("p/pod/c1", 10);
  scanner.scan(out);
  auto after = inodes(out);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_NE(after["p/pod/c1"], before["p/pod/c1"]);
  EXPECT_EQ(after["p/pod/c2"], before["p/pod/c2"]);
  // The new cgroup's own stats, not those of a file kept open from the old one.
  EXPECT_EQ(cache_of(out, "p/pod/c1"), 10u);
}

TEST_P(LeafScanRescan, StatsAreReadAfreshOnEveryScan) {
  testing::TempTree t;
  t.v1_cgroup("p/c1", 1);
  Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent, options());
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  EXPECT_EQ(cache_of(out, "p/c1"), 1u);
  t.v1_cgroup("p/c1", 12345);  // rewritten in place, as the kernel's text changes
  scanner.scan(out);
  EXPECT_EQ(cache_of(out, "p/c1"), 12345u);
}

TEST_P(LeafScanRescan, LeafWithoutStatsYetIsPickedUpWhenTheyAppear) {
  testing::TempTree t;
  t.v1_cgroup("p/c1", 1);
  Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent, options());
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  t.mkdir("p/c2");  // a cgroup still being set up
  scanner.scan(out);
  EXPECT_THAT(names(out), ElementsAre("p/c1"));
  t.v1_cgroup("p/c2", 2);
  scanner.scan(out);
  EXPECT_THAT(names(out), UnorderedElementsAre("p/c1", "p/c2"));
}

TEST_P(LeafScanRescan, RenamedLeafIsSeenUnderItsNewName) {
  testing::TempTree t;
  t.v1_cgroup("p/pod/old", 1);
  Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent, options());
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  std::filesystem::rename(t.root() / "p/pod/old", t.root() / "p/pod/new");
  scanner.scan(out);
  EXPECT_THAT(names(out), ElementsAre("p/pod/new"));
}

TEST_P(LeafScanRescan, V2LimitChangesAreSeenOnEveryScan) {
  testing::TempTree t;
  t.write("k/pod/memory.max", "1000\n");
  t.write("k/pod/c/memory.stat", "anon 0\nfile 5\nshmem 0\n");
  t.write("k/pod/c/memory.max", "max\n");
  Parent parent = t.parent("k", Version::kV2);
  LeafScanner scanner(parent, options());
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].stats->limit_bytes, 1000u);
  t.write("k/pod/c/memory.max", "300\n");
  scanner.scan(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].stats->limit_bytes, 300u);
  t.write("k/pod/memory.max", "max\n");
  t.write("k/pod/c/memory.max", "max\n");
  scanner.scan(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].stats->limit_bytes.has_value());
}

INSTANTIATE_TEST_SUITE_P(WatchedAndListed, LeafScanRescan, ::testing::Bool(),
                         [](const auto& param_info) {
                           return param_info.param ? "Watched" : "Listed";
                         });

TEST(LeafScan, SampleDirOpensTheLeafAndRefusesANewIncarnation) {
  testing::TempTree t;
  t.v1_cgroup("p/pod/c1", 1);
  Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent);
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  ASSERT_EQ(out.size(), 1u);
  core::LeafSample old = std::move(out[0]);

  auto dir = scanner.leaf_dir().open(old.name, old.inode);
  ASSERT_TRUE(dir);
  struct stat st {};
  ASSERT_EQ(::fstatat(dir->get(), "memory.stat", &st, 0), 0);

  std::filesystem::remove_all(t.root() / "p/pod/c1");
  t.v1_cgroup("p/pod/c1", 2);
  auto again = scanner.leaf_dir().open(old.name, old.inode);
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().vanished());
}

TEST(LeafScan, SampleDirNeverFollowsASymlinkedPath) {
  testing::TempTree t;
  t.v1_cgroup("p/c1", 1);
  t.v1_cgroup("elsewhere/c1", 1);
  Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent);
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  ASSERT_EQ(out.size(), 1u);
  std::filesystem::remove_all(t.root() / "p/c1");
  std::filesystem::create_directory_symlink(t.root() / "elsewhere/c1", t.root() / "p/c1");
  EXPECT_FALSE(scanner.leaf_dir().open(out[0].name, out[0].inode));
}

// With fewer file descriptors than leaves, the leaves past the budget are read with
// open/read/close: every leaf is still seen, with its own stats, scan after scan.
TEST(LeafScanDeathTest, FewFileDescriptorsStillReadEveryLeaf) {
  testing::TempTree t;
  constexpr int kLeaves = 150;
  for (int i = 0; i < kLeaves; ++i) {
    t.v1_cgroup("p/pod" + std::to_string(i / 3) + "/c" + std::to_string(i), 1000 + i);
  }
  auto child = [&] {
    struct rlimit rl {
      64, 64
    };
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      std::_Exit(3);
    }
    Parent parent = t.parent("p", Version::kV1);
    LeafScanOptions o;
    o.fd_budget = split_fd_limit(false, 24).scanner;
    LeafScanner scanner(parent, o);
    std::vector<core::LeafSample> out;
    for (int round = 0; round < 3; ++round) {
      scanner.scan(out);
      if (out.size() != kLeaves) {
        std::_Exit(4);
      }
      for (const core::LeafSample& l : out) {
        int i = std::stoi(std::string(l.name.substr(l.name.rfind("/c") + 2)));
        if (!l.stats || l.stats->cache_bytes != 1000 + static_cast<uint64_t>(i)) {
          std::_Exit(5);
        }
      }
      if (scanner.counters().kept_fds > 40) {
        std::_Exit(6);
      }
    }
    std::_Exit(0);
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "");
}

std::string v2_stat(uint64_t file) {
  return "anon 0\nfile " + std::to_string(file) + "\nshmem 0\n";
}

TEST(LeafScanV2, EffectiveLimitIsTheSmallestMemoryMaxOnThePath) {
  testing::TempTree t;
  t.write("kubepods.slice/memory.max", "max\n");
  t.write("kubepods.slice/pod1.slice/memory.max", "1000\n");
  t.write("kubepods.slice/pod1.slice/own.scope/memory.stat", v2_stat(5));
  t.write("kubepods.slice/pod1.slice/own.scope/memory.max", "400\n");
  t.write("kubepods.slice/pod1.slice/inherits.scope/memory.stat", v2_stat(6));
  t.write("kubepods.slice/pod1.slice/inherits.scope/memory.max", "max\n");
  t.write("kubepods.slice/pod2.slice/free.scope/memory.stat", v2_stat(7));
  t.write("kubepods.slice/pod2.slice/free.scope/memory.max", "max\n");

  auto leaves = scan(t.parent("kubepods.slice", Version::kV2));
  ASSERT_EQ(leaves.size(), 3u);
  for (const auto& l : leaves) {
    ASSERT_TRUE(l.stats) << l.name;
    if (l.name == "kubepods.slice/pod1.slice/own.scope") {
      EXPECT_EQ(l.stats->limit_bytes, 400u);
      EXPECT_EQ(l.stats->cache_bytes, 5u);
    } else if (l.name == "kubepods.slice/pod1.slice/inherits.scope") {
      EXPECT_EQ(l.stats->limit_bytes, 1000u);
    } else {
      EXPECT_FALSE(l.stats->limit_bytes.has_value()) << l.name;
    }
  }
}

TEST(LeafScanV2, AncestorsAboveTheParentBoundEveryLeaf) {
  testing::TempTree t;
  t.write("top/memory.max", "5000\n");
  t.write("top/kubepods/memory.max", "max\n");
  t.write("top/kubepods/c/memory.stat", v2_stat(1));
  Parent parent = t.parent("top/kubepods", Version::kV2);
  parent.limit_ancestors.emplace_back(
      ::open((t.root() / "top").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto leaves = scan(parent);
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].stats->limit_bytes, 5000u);
}

TEST(OpenParent, RefusesWhatIsNotACgroup) {
  testing::TempTree t;
  t.write("file", "x");
  t.mkdir("dir");
  auto missing = open_parent((t.root() / "nope").string());
  ASSERT_TRUE(std::holds_alternative<ParentError>(missing));
  EXPECT_THAT(std::get<ParentError>(missing).message, ::testing::HasSubstr("does not exist"));

  auto file = open_parent((t.root() / "file").string());
  ASSERT_TRUE(std::holds_alternative<ParentError>(file));
  EXPECT_THAT(std::get<ParentError>(file).message, ::testing::HasSubstr("not a directory"));

  auto dir = open_parent((t.root() / "dir").string());
  ASSERT_TRUE(std::holds_alternative<ParentError>(dir));
  EXPECT_THAT(std::get<ParentError>(dir).message,
              ::testing::HasSubstr("not on a cgroup filesystem"));

  std::filesystem::create_directory_symlink(t.root() / "dir", t.root() / "link");
  auto link = open_parent((t.root() / "link").string());
  ASSERT_TRUE(std::holds_alternative<ParentError>(link));
  EXPECT_THAT(std::get<ParentError>(link).message, ::testing::HasSubstr("symlink"));
}

}  // namespace
}  // namespace cgmm::cgroup
