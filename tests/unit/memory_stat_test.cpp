#include "cgroup/memory_stat.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace cgmm::cgroup {
namespace {

std::string sample(const char* name) {
  std::ifstream in(std::string(CGMM_TEST_DATA) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Captured from this kernel: a leaf under a 512 MiB pod that wrote 30 MiB to disk and 5 MiB to
// /dev/shm.
TEST(MemoryStatV1, CapturedLeafWithLimit) {
  auto s = parse_memory_stat(sample("v1-memory.stat-limited"), Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->cache_bytes, 36'798'464u);
  EXPECT_EQ(s->shmem_bytes, 5'242'880u);
  EXPECT_EQ(s->limit_bytes, 536'870'912u);
  EXPECT_EQ(s->refault_bytes, 22 * page_bytes());
}

TEST(MemoryStatV1, UnlimitedIsNoLimit) {
  auto s = parse_memory_stat(sample("v1-memory.stat-unlimited"), Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->limit_bytes.has_value());
}

TEST(MemoryStatV1, UsesTheCgroupsOwnKeysNotTotals) {
  auto s = parse_memory_stat("total_cache 999\ncache 5\nshmem 1\nhierarchical_memory_limit 100\n",
                             Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->cache_bytes, 5u);
  EXPECT_EQ(s->limit_bytes, 100u);
}

// The kubelet's working set takes total_inactive_file on v1: the usage counts the cgroup's
// descendants, and so does that key. In the unlimited sample all the cache is a child's.
TEST(MemoryStatV1, InactiveFileIsTheTotalAsTheUsageCountsIt) {
  auto s = parse_memory_stat(sample("v1-memory.stat-unlimited"), Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->inactive_file_bytes, 31'547'392u);
  s = parse_memory_stat(sample("v1-memory.stat-limited"), Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->inactive_file_bytes, 31'547'392u);
  s = parse_memory_stat("cache 5\ninactive_file 7\n", Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->inactive_file_bytes, 0u);
}

TEST(MemoryStatV1, RefaultsAreFilePagesInBytes) {
  // 5.9 and later count file refaults apart from anonymous ones; the cgroup's own, not the total.
  auto s = parse_memory_stat(
      "cache 5\nworkingset_refault_anon 7\nworkingset_refault_file 3\n"
      "total_workingset_refault_file 99\n",
      Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->refault_bytes, 3 * page_bytes());
  // Before 5.9 there is one counter for both.
  s = parse_memory_stat("cache 5\nworkingset_refault 4\n", Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->refault_bytes, 4 * page_bytes());
  // A kernel without either counts none.
  s = parse_memory_stat("cache 5\n", Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->refault_bytes, 0u);
}

TEST(MemoryStatV1, ToleratesUnknownAndMalformedLines) {
  auto s =
      parse_memory_stat("new_key 7\ngarbage\ncache notanumber\ncache 42\n\nshmem 3", Version::kV1);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->cache_bytes, 42u);
  EXPECT_EQ(s->shmem_bytes, 3u);
  EXPECT_FALSE(s->limit_bytes.has_value());
}

TEST(MemoryStatV1, MissingCacheIsNotStats) {
  EXPECT_FALSE(parse_memory_stat("rss 5\n", Version::kV1).has_value());
  EXPECT_FALSE(parse_memory_stat("", Version::kV1).has_value());
}

TEST(MemoryStatV2, FileIsTheCache) {
  auto s = parse_memory_stat(sample("v2-memory.stat"), Version::kV2);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->cache_bytes, 52'523'008u);
  EXPECT_EQ(s->shmem_bytes, 4'194'304u);
  EXPECT_FALSE(s->limit_bytes.has_value());  // v2 limits come from memory.max
  EXPECT_EQ(s->refault_bytes, 0u);
  EXPECT_EQ(s->inactive_file_bytes, 48'328'704u);
  s = parse_memory_stat("file 5\nworkingset_refault_file 16395\n", Version::kV2);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->refault_bytes, 16395 * page_bytes());
}

TEST(MemoryStatV2, V1KeysDoNotCount) {
  EXPECT_FALSE(parse_memory_stat("cache 5\n", Version::kV2).has_value());
}

// As the kubelet (cAdvisor) counts it; memory.stat and the usage are read apart, so the inactive
// file pages can exceed a usage read a moment later.
TEST(WorkingSet, TheUsageLessInactiveFilePagesAndNeverBelowZero) {
  core::MemoryStats stats;
  stats.inactive_file_bytes = 30;
  EXPECT_EQ(core::working_set_bytes(100, stats), 70u);
  EXPECT_EQ(core::working_set_bytes(30, stats), 0u);
  EXPECT_EQ(core::working_set_bytes(20, stats), 0u);
  stats.inactive_file_bytes = 0;  // a memory.stat without the key
  EXPECT_EQ(core::working_set_bytes(100, stats), 100u);
}

TEST(MemoryMax, NumbersAndMax) {
  auto max = parse_memory_max("max\n");
  ASSERT_TRUE(max.has_value());
  EXPECT_FALSE(max->has_value());
  EXPECT_EQ(parse_memory_max("1048576\n"), std::optional<std::optional<uint64_t>>(1048576u));
  EXPECT_FALSE(parse_memory_max("").has_value());
  EXPECT_FALSE(parse_memory_max("12x").has_value());
}

TEST(Usage, OneByteCount) {
  EXPECT_EQ(parse_usage("73728000\n"), std::optional<uint64_t>(73728000u));
  EXPECT_EQ(parse_usage("0\n"), std::optional<uint64_t>(0u));
  EXPECT_FALSE(parse_usage("").has_value());
  EXPECT_FALSE(parse_usage("max\n").has_value());
  EXPECT_FALSE(parse_usage("12 34\n").has_value());
}

}  // namespace
}  // namespace cgmm::cgroup

namespace cgmm::cgroup {
namespace {

TEST(StatValue, FindsAKeyAndNotItsPrefix) {
  const std::string_view text = "anon_thp 4096\nanon 20971520\nfile 8192\n";
  EXPECT_EQ(stat_value(text, "anon"), 20971520u);
  EXPECT_EQ(stat_value(text, "file"), 8192u);
  EXPECT_EQ(stat_value(text, "shmem"), std::nullopt);
  EXPECT_EQ(stat_value("anon x\n", "anon"), std::nullopt);
}

}  // namespace
}  // namespace cgmm::cgroup
