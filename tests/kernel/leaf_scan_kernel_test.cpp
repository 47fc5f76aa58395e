// The incremental scanner on real cgroup v1 memory cgroups: kept memory.stat files of removed
// cgroups, and cgroups created again under the same name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <variant>

#include "cgroup/hierarchy.h"
#include "cgroup/leaf_scan.h"
#include "support/kernel_tree.h"

namespace cgmm::testing {
namespace {

using ::testing::UnorderedElementsAre;

std::map<std::string, uint64_t> leaves(cgroup::LeafScanner& scanner) {
  std::vector<core::LeafSample> out;
  scanner.scan(out);
  std::map<std::string, uint64_t> m;
  for (const auto& l : out) {
    EXPECT_TRUE(l.stats) << l.name;
    m[std::string(l.name)] = l.inode;
  }
  return m;
}

std::vector<std::string> names(const std::map<std::string, uint64_t>& m) {
  std::vector<std::string> out;
  out.reserve(m.size());
  for (const auto& [name, inode] : m) {
    out.push_back(name);
  }
  return out;
}

TEST(LeafScanKernel, RemovedAndRecreatedCgroupsBetweenScans) {
  CGMM_REQUIRE_KERNEL();
  KernelTree tree;
  tree.make("burstable/pod1/c1");
  tree.make("burstable/pod1/c2");
  auto opened = cgroup::open_parent(tree.root());
  ASSERT_TRUE(std::holds_alternative<cgroup::Parent>(opened));
  const cgroup::Parent& parent = std::get<cgroup::Parent>(opened);
  const std::string p = parent.name + "/burstable/pod1/";

  cgroup::LeafScanOptions options;
  options.full_walk_every = 0;  // changes must be seen without the safety-net walk
  cgroup::LeafScanner scanner(parent, options);
  auto first = leaves(scanner);
  EXPECT_THAT(names(first), UnorderedElementsAre(p + "c1", p + "c2"));
  EXPECT_EQ(scanner.counters().kept_fds, 4u) << "memory.stat and memory.usage_in_bytes of each";
  const uint64_t listed = scanner.counters().dirs_listed;

  ASSERT_EQ(::rmdir(tree.path("burstable/pod1/c1").c_str()), 0);
  EXPECT_THAT(names(leaves(scanner)), UnorderedElementsAre(p + "c2"));
  EXPECT_EQ(scanner.counters().kept_fds, 2u) << "the removed cgroup's files are closed";

  tree.make("burstable/pod1/c1");
  auto again = leaves(scanner);
  EXPECT_THAT(names(again), UnorderedElementsAre(p + "c1", p + "c2"));
  EXPECT_NE(again[p + "c1"], first[p + "c1"]);
  EXPECT_EQ(again[p + "c2"], first[p + "c2"]);
  EXPECT_EQ(scanner.counters().dirs_listed, listed + 1) << "only the new cgroup was listed";
}

}  // namespace
}  // namespace cgmm::testing
