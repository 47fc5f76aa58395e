#include "cgroup/reclaim.h"

#include <gtest/gtest.h>

#include "support/temp_tree.h"

namespace cgmm::cgroup {
namespace {

TEST(Reclaimer, V1WritesZeroToForceEmpty) {
  testing::TempTree t;
  t.write("c/memory.force_empty", "");
  Parent p = t.parent("c", Version::kV1);
  Reclaimer r(Version::kV1);
  auto st = r.reclaim(p.fd.get(), 12345);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, core::ReclaimResult::kDone);
  EXPECT_EQ(t.read("c/memory.force_empty"), "0");
}

TEST(Reclaimer, V2AsksForFilePagesOnly) {
  testing::TempTree t;
  t.write("c/memory.reclaim", "");
  Parent p = t.parent("c", Version::kV2);
  Reclaimer r(Version::kV2);
  ASSERT_TRUE(r.reclaim(p.fd.get(), 1048576).ok());
  EXPECT_EQ(t.read("c/memory.reclaim"), "1048576 swappiness=0");
}

TEST(Reclaimer, MissingFileIsAnErrorNamingIt) {
  testing::TempTree t;
  t.mkdir("c");
  Parent p = t.parent("c", Version::kV1);
  auto st = Reclaimer(Version::kV1).reclaim(p.fd.get(), 0);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().describe("pod/c"),
            "failed to open memory.force_empty of pod/c: No such file or directory");
}

}  // namespace
}  // namespace cgmm::cgroup
