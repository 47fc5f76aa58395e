#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cgroup/fd.h"
#include "cgroup/fd_budget.h"
#include "cgroup/memory_stat.h"
#include "cgroup/result.h"
#include "core/leaf_sample.h"
#include "core/limit.h"

// A leaf's own files, read through its directory fd or through a file kept open: the scan, the
// watch between scans, the daemon's check of one leaf and the reclaim's reading after it all read
// them here. `buf` is scratch space, kept by the caller so that its capacity is reused.
namespace cgmm::cgroup {

// Reads memory.stat through the leaf's directory fd. On v2 the limit is not part of memory.stat:
// `v2_limit` is the effective limit found by the walk, with its kind.
IoResult<core::MemoryStats> read_leaf_stats(int dir_fd, Version version,
                                            const core::Limit& v2_limit, std::string& buf);
// The same through an open memory.stat `stat_fd`: one pread.
IoResult<core::MemoryStats> pread_leaf_stats(int stat_fd, Version version,
                                             const core::Limit& v2_limit, std::string& buf);

// The usage file of `version`: v1 memory.usage_in_bytes, v2 memory.current.
const char* usage_file(Version version);
// Reads the leaf's memory usage through its directory fd.
IoResult<uint64_t> read_usage(int dir_fd, Version version, std::string& buf);
// v2: the leaf's anonymous memory (memory.stat `anon`) and swap (memory.swap.current, 0 when the
// kernel has no swap accounting), to see a reclaim reach beyond the page cache.
struct AnonAndSwap {
  uint64_t anon_bytes = 0;
  uint64_t swap_bytes = 0;
};
IoResult<AnonAndSwap> read_anon_and_swap(int dir_fd, std::string& buf);

// The same through an open usage file `fd` named `name`: one pread.
IoResult<uint64_t> pread_usage(int fd, const char* name);

// A leaf's usage file (usage_file(version)), kept open between reads while the fd budget allows,
// like its memory.stat. A file that fails to read or does not hold a number is no usage; a kept
// one is then closed, and opened again at the next read (its cgroup may be gone).
class UsageFile {
 public:
  // Opens one of the leaf's files by name, for a file not kept open.
  using Open = std::function<IoResult<Fd>(const char* file)>;

  std::optional<uint64_t> read(Version version, FdBudget& fds, const Open& open);
  void release(FdBudget& fds) { fds.drop(fd_); }

 private:
  Fd fd_;
};

// v2: reads an open limit file `name` (memory.max or memory.high, one format). The value is the
// limit, or none for "max" and for text that is not a limit.
IoResult<std::optional<uint64_t>> pread_limit_file(int fd, const char* name, std::string& buf);

}  // namespace cgmm::cgroup
