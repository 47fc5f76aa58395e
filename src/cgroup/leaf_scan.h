#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/fd.h"
#include "cgroup/hierarchy.h"
#include "cgroup/memory_stat.h"
#include "cgroup/result.h"

namespace cgmm::cgroup {

// One leaf cgroup as seen by one scan.
struct LeafSample {
  std::string name;    // "<parent name>/<path below the parent>", or the parent's name
  uint64_t inode = 0;  // with the name, identifies one incarnation of the cgroup
  Fd dir;              // the leaf's directory, for writing its reclaim file
  std::optional<MemoryStats> stats;
  std::optional<IoError> error;  // set when stats could not be read (never for a vanished leaf)
};

// Finds the leaf cgroups under a parent (directories with no child directory; the parent itself
// when it has none) and reads each one's memory.stat. Never follows symlinks and never leaves the
// parent's filesystem. Leaves that vanish during the scan are left out.
// Reads one leaf's memory.stat through its directory fd, using `buf` as scratch space. On v2 the
// limit is not part of memory.stat: `v2_limit` is the effective limit found by the walk.
IoResult<MemoryStats> read_leaf_stats(int dir_fd, Version version, std::optional<uint64_t> v2_limit,
                                      std::string& buf);

class LeafScanner {
 public:
  explicit LeafScanner(const Parent& parent) : parent_(parent) {}

  // Replaces `out` with this scan's leaves, in a stable (directory) order.
  void scan(std::vector<LeafSample>& out);

 private:
  void walk(Fd dir, uint64_t inode, std::string& name, std::optional<uint64_t> limit, int depth,
            std::vector<LeafSample>& out);
  void sample(LeafSample& leaf, std::optional<uint64_t> limit);
  std::optional<uint64_t> v2_own_limit(int dir_fd);

  const Parent& parent_;
  std::string buf_;
};

}  // namespace cgmm::cgroup
