#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cgroup/fd.h"
#include "cgroup/fd_budget.h"
#include "cgroup/result.h"
#include "core/limit.h"

namespace cgmm::cgroup {

// v2: one cgroup's own limits, memory.max and memory.high (one format), each file kept open
// between reads while the fd budget allows, so a cgroup costs two kept descriptors and two
// preads a scan. A file that is missing or does not hold a limit counts as no limit; a kept file
// that fails to read (its cgroup removed) is closed, and opened again at the next read.
class LimitFiles {
 public:
  // Opens one of the cgroup's files by name, for a file not kept open.
  using Open = std::function<IoResult<Fd>(const char* file)>;

  // The tighter of the two (core::tighter: on a tie, memory.max).
  core::Limit read(FdBudget& fds, const Open& open, std::string& buf);
  void release(FdBudget& fds);

 private:
  std::optional<uint64_t> read_one(Fd& kept, const char* file, FdBudget& fds, const Open& open,
                                   std::string& buf);

  Fd max_;
  Fd high_;
};

}  // namespace cgmm::cgroup
