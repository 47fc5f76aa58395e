// The v2 effective limit with memory.high: the smallest memory.max or memory.high on a leaf's path,
// and which of the two it is, through the scanner's walk and its kept files on fixture trees.
#include "cgroup/limit_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "cgroup/leaf_scan.h"
#include "support/temp_tree.h"

namespace cgmm::cgroup {
namespace {

using core::Limit;
using core::LimitKind;

std::string v2_stat(uint64_t file) {
  return "anon 0\nfile " + std::to_string(file) + "\nshmem 0\n";
}

// Each leaf's name and its effective limit, as one scan saw them.
std::map<std::string, Limit> limits_of(LeafScanner& scanner) {
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  std::map<std::string, Limit> limits;
  for (const core::LeafSample& l : out) {
    EXPECT_TRUE(l.stats) << l.name << ": " << l.error;
    if (l.stats) {
      limits[std::string(l.name)] = {l.stats->limit_bytes, l.stats->limit_kind};
    }
  }
  return limits;
}

std::map<std::string, Limit> limits_of(const Parent& parent, LeafScanOptions options = {}) {
  LeafScanner scanner(parent, options);
  return limits_of(scanner);
}

constexpr Limit max(uint64_t bytes) {
  return {bytes, LimitKind::kMax};
}
constexpr Limit high(uint64_t bytes) {
  return {bytes, LimitKind::kHigh};
}

TEST(LimitFilesV2, HighBelowMaxIsTheLimit) {
  testing::TempTree t;
  t.write("k/pod/c/memory.stat", v2_stat(1));
  t.write("k/pod/c/memory.max", "1000\n");
  t.write("k/pod/c/memory.high", "600\n");
  t.write("k/pod/d/memory.stat", v2_stat(1));
  t.write("k/pod/d/memory.max", "500\n");
  t.write("k/pod/d/memory.high", "600\n");  // above its max: the max bounds it
  const auto limits = limits_of(t.parent("k", Version::kV2));
  EXPECT_EQ(limits.at("k/pod/c"), high(600));
  EXPECT_EQ(limits.at("k/pod/d"), max(500));
}

TEST(LimitFilesV2, HighOnAnAncestorBoundsTheLeaf) {
  testing::TempTree t;
  t.write("top/memory.high", "3000\n");
  t.write("top/k/memory.max", "max\n");
  t.write("top/k/pod/memory.high", "700\n");
  t.write("top/k/pod/memory.max", "2000\n");
  t.write("top/k/pod/c/memory.stat", v2_stat(1));
  t.write("top/k/pod/c/memory.max", "900\n");
  t.write("top/k/pod/c/memory.high", "max\n");
  t.write("top/k/other/c/memory.stat", v2_stat(1));
  Parent parent = t.parent("top/k", Version::kV2);
  // Above the parent: what open_parent keeps for the walk.
  parent.limit_ancestors.emplace_back(
      ::open((t.root() / "top").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  const auto limits = limits_of(parent);
  EXPECT_EQ(limits.at("k/pod/c"), high(700));     // the pod's memory.high
  EXPECT_EQ(limits.at("k/other/c"), high(3000));  // memory.high above the parent
}

TEST(LimitFilesV2, HighMaxIsNoLimit) {
  testing::TempTree t;
  t.write("k/pod/memory.high", "max\n");
  t.write("k/pod/c/memory.stat", v2_stat(1));
  t.write("k/pod/c/memory.max", "800\n");
  t.write("k/pod/c/memory.high", "max\n");
  t.write("k/free/memory.max", "max\n");
  t.write("k/free/memory.high", "max\n");
  t.write("k/free/c/memory.stat", v2_stat(1));
  t.write("k/free/c/memory.max", "max\n");
  t.write("k/free/c/memory.high", "max\n");
  const auto limits = limits_of(t.parent("k", Version::kV2));
  EXPECT_EQ(limits.at("k/pod/c"), max(800));
  EXPECT_EQ(limits.at("k/free/c"), Limit{});
}

// The same bytes from both: the hard limit is named, in one cgroup and across the path.
TEST(LimitFilesV2, ATieIsMax) {
  testing::TempTree t;
  t.write("k/pod/c/memory.stat", v2_stat(1));
  t.write("k/pod/c/memory.max", "500\n");
  t.write("k/pod/c/memory.high", "500\n");
  t.write("k/up/memory.high", "400\n");
  t.write("k/up/c/memory.stat", v2_stat(1));
  t.write("k/up/c/memory.max", "400\n");
  t.write("k/down/memory.max", "400\n");
  t.write("k/down/c/memory.stat", v2_stat(1));
  t.write("k/down/c/memory.high", "400\n");
  const auto limits = limits_of(t.parent("k", Version::kV2));
  EXPECT_EQ(limits.at("k/pod/c"), max(500));
  EXPECT_EQ(limits.at("k/up/c"), max(400));
  EXPECT_EQ(limits.at("k/down/c"), max(400));
}

// A file that is not there (or does not hold a limit) is no limit; the other one still counts.
TEST(LimitFilesV2, AMissingFileIsNoLimit) {
  testing::TempTree t;
  t.write("k/only-max/memory.stat", v2_stat(1));
  t.write("k/only-max/memory.max", "300\n");
  t.write("k/only-high/memory.stat", v2_stat(1));
  t.write("k/only-high/memory.high", "200\n");
  t.write("k/garbled/memory.stat", v2_stat(1));
  t.write("k/garbled/memory.max", "250\n");
  t.write("k/garbled/memory.high", "lots\n");
  t.write("k/neither/memory.stat", v2_stat(1));
  const auto limits = limits_of(t.parent("k", Version::kV2));
  EXPECT_EQ(limits.at("k/only-max"), max(300));
  EXPECT_EQ(limits.at("k/only-high"), high(200));
  EXPECT_EQ(limits.at("k/garbled"), max(250));
  EXPECT_EQ(limits.at("k/neither"), Limit{});
}

TEST(LimitFilesV2, KeptFilesSeeChangesAndCountInTheBudget) {
  testing::TempTree t;
  t.write("k/pod/memory.max", "1000\n");
  t.write("k/pod/memory.high", "max\n");
  t.write("k/pod/c/memory.stat", v2_stat(1));
  t.write("k/pod/c/memory.max", "max\n");
  t.write("k/pod/c/memory.high", "max\n");
  const Parent parent = t.parent("k", Version::kV2);  // the scanner keeps a reference
  LeafScanner scanner(parent);
  EXPECT_EQ(limits_of(scanner).at("k/pod/c"), max(1000));
  // The leaf's memory.stat, and memory.max and memory.high of the pod and of the leaf.
  EXPECT_EQ(scanner.counters().kept_fds, 5u);
  t.write("k/pod/c/memory.high", "700\n");
  EXPECT_EQ(limits_of(scanner).at("k/pod/c"), high(700));
  t.write("k/pod/memory.high", "600\n");
  EXPECT_EQ(limits_of(scanner).at("k/pod/c"), high(600));
  t.write("k/pod/memory.high", "max\n");
  t.write("k/pod/c/memory.high", "max\n");
  EXPECT_EQ(limits_of(scanner).at("k/pod/c"), max(1000));
  EXPECT_EQ(scanner.counters().kept_fds, 5u);
}

// Past the budget the limit files are read with open/read/close: the limits stay right.
TEST(LimitFilesV2, BeyondTheBudgetLimitsAreStillRead) {
  testing::TempTree t;
  for (int i = 0; i < 4; ++i) {
    const std::string leaf = "k/pod/c" + std::to_string(i);
    t.write(leaf + "/memory.stat", v2_stat(1));
    t.write(leaf + "/memory.max", std::to_string(1000 + i) + "\n");
    t.write(leaf + "/memory.high", std::to_string(500 + i) + "\n");
  }
  t.write("k/pod/memory.max", "max\n");
  t.write("k/pod/memory.high", "max\n");
  LeafScanOptions options;
  options.fd_budget = 3;
  const Parent parent = t.parent("k", Version::kV2);
  LeafScanner scanner(parent, options);
  for (int round = 0; round < 2; ++round) {
    const auto limits = limits_of(scanner);
    ASSERT_EQ(limits.size(), 4u);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(limits.at("k/pod/c" + std::to_string(i)), high(500 + i)) << i;
    }
    EXPECT_EQ(scanner.counters().kept_fds, 3u);
  }
}

TEST(LimitFilesV1, TheLimitIsAlwaysTheHardOne) {
  testing::TempTree t;
  t.v1_cgroup("p/c", 1, 4096);
  const auto limits = limits_of(t.parent("p", Version::kV1));
  EXPECT_EQ(limits.at("p/c"), max(4096));
}

// LimitFiles on its own: both files kept while the budget allows, read again without an open.
TEST(LimitFiles, KeepsWhatTheBudgetAllows) {
  testing::TempTree t;
  t.write("c/memory.max", "100\n");
  t.write("c/memory.high", "50\n");
  const Fd dir(::open((t.root() / "c").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string buf;
  for (const size_t budget : {size_t{10}, size_t{1}}) {
    FdBudget fds(budget);
    LimitFiles files;
    int opens = 0;
    const LimitFiles::Open open = [&](const char* file) {
      ++opens;
      return fds.open_file_at(dir.get(), file);
    };
    EXPECT_EQ(files.read(fds, open, buf), high(50));
    EXPECT_EQ(files.read(fds, open, buf), high(50));
    EXPECT_EQ(fds.kept(), std::min<size_t>(budget, 2));
    EXPECT_EQ(opens, budget >= 2 ? 2 : 3);  // a file not kept is opened at each read
    files.release(fds);
    EXPECT_EQ(fds.kept(), 0u);
  }
}

}  // namespace
}  // namespace cgmm::cgroup
