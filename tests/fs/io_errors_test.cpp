// Errnos the kernel boundary must handle that a fixture tree can produce, or that are injected
// into the write(2) itself (seccomp, in a forked child) where no real file answers them.
#include <gtest/gtest.h>

#include <cerrno>

#include "cgroup/io.h"
#include "cgroup/leaf_files.h"
#include "cgroup/reclaim.h"
#include "support/temp_tree.h"
#include "support/write_gate.h"

namespace cgmm::cgroup {
namespace {

TEST(IoErrors, ADirectoryWhereAControlFileShouldBeIsEisdirNotACrash) {
  testing::TempTree t;
  t.mkdir("c/memory.force_empty");
  t.mkdir("c/memory.stat");
  Parent p = t.parent("c", Version::kV1);
  auto st = Reclaimer(Version::kV1).reclaim(p.fd.get(), 0);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().err, EISDIR);
  EXPECT_FALSE(st.error().vanished());
  std::string buf;
  auto stats = read_leaf_stats(p.fd.get(), Version::kV1, {}, buf);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().err, EISDIR);
  EXPECT_EQ(stats.error().describe("pod/c"), "failed to read memory.stat of pod/c: Is a directory");
}

TEST(IoErrors, V2EagainIsAPartialReclaimNotAnError) {
  testing::TempTree t;
  t.write("c/memory.reclaim", "");
  Parent p = t.parent("c", Version::kV2);
  const int code = testing::with_write_errno(EAGAIN, [&] {
    auto st = Reclaimer(Version::kV2).reclaim(p.fd.get(), 1 << 20);
    return st.ok() && *st == core::ReclaimResult::kPartial ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

TEST(IoErrors, V1EagainIsAFailure) {
  testing::TempTree t;
  t.write("c/memory.force_empty", "");
  Parent p = t.parent("c", Version::kV1);
  const int code = testing::with_write_errno(EAGAIN, [&] {
    auto st = Reclaimer(Version::kV1).reclaim(p.fd.get(), 0);
    return st.ok() ? 0 : st.error().err;
  });
  EXPECT_EQ(code, EAGAIN);
}

TEST(IoErrors, WriteReturnsEintrToItsCallerAndEbusyAsIs) {
  testing::TempTree t;
  t.write("c/memory.force_empty", "");
  Parent p = t.parent("c", Version::kV1);
  for (int err : {EINTR, EBUSY}) {
    const int code = testing::with_write_errno(err, [&] {
      auto st = write_file_at(p.fd.get(), "memory.force_empty", "0");
      return st.ok() ? 0 : st.error().err;
    });
    EXPECT_EQ(code, err);
  }
}

}  // namespace
}  // namespace cgmm::cgroup
