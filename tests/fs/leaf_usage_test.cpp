// The usage the scan reads beside each leaf's memory.stat, for the kubelet's working set: v1
// memory.usage_in_bytes, v2 memory.current, kept open within the fd budget like memory.stat.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "cgroup/leaf_scan.h"
#include "support/temp_tree.h"

namespace cgmm::cgroup {
namespace {

struct Read {
  std::optional<uint64_t> usage;
  std::optional<uint64_t> working_set;
  bool stats = false;
  std::string error;
};

// One scan: each leaf's usage and working set, by name.
std::map<std::string, Read> scan(LeafScanner& scanner) {
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  std::map<std::string, Read> reads;
  for (const core::LeafSample& s : out) {
    Read& r = reads[std::string(s.name)];
    r.usage = s.usage_bytes;
    r.stats = s.stats.has_value();
    r.error = s.error;
    if (s.stats && s.usage_bytes) {
      r.working_set = core::working_set_bytes(*s.usage_bytes, *s.stats);
    }
  }
  return reads;
}

// A v1 leaf as this kernel lays it out: the cgroup's own keys first, the totals near the end.
void v1_leaf(testing::TempTree& t, const std::string& rel, uint64_t usage, uint64_t inactive) {
  t.write(rel + "/memory.stat",
          "cache 40960\nrss 0\nshmem 0\ninactive_file 1\n"
          "hierarchical_memory_limit 9223372036854771712\n"
          "total_cache 40960\ntotal_inactive_file " +
              std::to_string(inactive) + "\ntotal_active_file 0\n");
  t.write(rel + "/memory.usage_in_bytes", std::to_string(usage) + "\n");
}

TEST(LeafUsageV1, EachScanReadsTheUsageAndTheWorkingSetIsItLessTotalInactiveFile) {
  testing::TempTree t;
  v1_leaf(t, "p/a", 100'000, 30'000);
  v1_leaf(t, "p/b", 10'000, 30'000);  // more inactive file pages than usage: clamped
  const Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent);
  auto reads = scan(scanner);
  EXPECT_EQ(reads["p/a"].usage, 100'000u);
  EXPECT_EQ(reads["p/a"].working_set, 70'000u);
  EXPECT_EQ(reads["p/b"].working_set, 0u);
  // Both files of both leaves stay open, and what they say next is read.
  EXPECT_EQ(scanner.counters().kept_fds, 4u);
  v1_leaf(t, "p/a", 250'000, 50'000);
  reads = scan(scanner);
  EXPECT_EQ(reads["p/a"].working_set, 200'000u);
  EXPECT_EQ(scanner.counters().kept_fds, 4u);
}

// A usage that cannot be read leaves the leaf as it was: its stats decide it, with no error;
// only the working set is unknown.
TEST(LeafUsageV1, AMissingOrGarbledUsageIsNoUsageAndNoError) {
  testing::TempTree t;
  v1_leaf(t, "p/garbled", 1, 0);
  t.write("p/garbled/memory.usage_in_bytes", "lots\n");
  t.v1_cgroup("p/none", 5);
  const Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent);
  for (int round = 0; round < 2; ++round) {
    auto reads = scan(scanner);
    for (const char* leaf : {"p/garbled", "p/none"}) {
      EXPECT_TRUE(reads[leaf].stats) << leaf;
      EXPECT_EQ(reads[leaf].error, "") << leaf;
      EXPECT_FALSE(reads[leaf].usage) << leaf;
    }
    EXPECT_EQ(scanner.counters().kept_fds, 2u);  // the two memory.stat files
  }
  t.write("p/none/memory.usage_in_bytes", "4096\n");
  EXPECT_EQ(scan(scanner)["p/none"].usage, 4096u);
}

// With fewer descriptors than files, the first walk keeps every memory.stat before any usage
// file; the rest are read with open/read/close, and every leaf's usage is still right.
TEST(LeafUsageV1, AShortBudgetGoesToMemoryStatFirstAndEveryUsageIsStillRead) {
  testing::TempTree t;
  for (int i = 0; i < 4; ++i) {
    v1_leaf(t, "p/pod/c" + std::to_string(i), 1000 * (i + 1), 0);
  }
  LeafScanOptions options;
  options.fd_budget = 5;
  const Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent, options);
  for (int round = 0; round < 3; ++round) {
    const auto reads = scan(scanner);
    ASSERT_EQ(reads.size(), 4u);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(reads.at("p/pod/c" + std::to_string(i)).usage, 1000u * (i + 1)) << i;
    }
    EXPECT_EQ(scanner.counters().kept_fds, 5u);
  }
}

// Without metrics nothing needs it: not read, and no descriptor kept for it.
TEST(LeafUsageV1, WithoutReadUsageTheUsageIsNeitherReadNorKept) {
  testing::TempTree t;
  v1_leaf(t, "p/a", 100'000, 30'000);
  LeafScanOptions options;
  options.read_usage = false;
  const Parent parent = t.parent("p", Version::kV1);
  LeafScanner scanner(parent, options);
  auto reads = scan(scanner);
  EXPECT_TRUE(reads["p/a"].stats);
  EXPECT_FALSE(reads["p/a"].usage);
  EXPECT_EQ(scanner.counters().kept_fds, 1u);
}

TEST(LeafUsageV2, TheUsageIsMemoryCurrentAndTheWorkingSetLessInactiveFile) {
  testing::TempTree t;
  t.write("k/pod/c/memory.stat", "anon 4096\nfile 90000\nshmem 0\ninactive_file 60000\n");
  t.write("k/pod/c/memory.current", "100000\n");
  t.write("k/pod/c/memory.usage_in_bytes", "1\n");  // not a v2 file: never read
  const Parent parent = t.parent("k", Version::kV2);
  LeafScanner scanner(parent);
  auto reads = scan(scanner);
  EXPECT_EQ(reads["k/pod/c"].usage, 100'000u);
  EXPECT_EQ(reads["k/pod/c"].working_set, 40'000u);
  t.write("k/pod/c/memory.current", "70000\n");
  EXPECT_EQ(scan(scanner)["k/pod/c"].working_set, 10'000u);
}

}  // namespace
}  // namespace cgmm::cgroup
