#pragma once

#include <cstddef>

#include "cgroup/fd.h"
#include "cgroup/result.h"

// How many descriptors the daemon keeps open, and for what. The scanner keeps each leaf's
// memory.stat and, for the metrics, its usage file (and on v2 each directory's memory.max and
// memory.high, the parent's ancestors' too: up to two files a leaf on v1, four on v2) open
// between scans, and each leaf watched between scans holds one more (an eventfd on v1,
// memory.current on v2); both are bounded so that a node with more cgroups than descriptors
// degrades to reading files with open/read/close instead of failing.
namespace cgmm::cgroup {

// Descriptors left to the rest of the process: the listener and its connections, the reclaim
// workers' directories, the signalfd, the epoll set, the logs.
inline constexpr size_t kFdReserve = 256;

// Raises the soft RLIMIT_NOFILE to the hard limit (once per process) and returns the soft limit;
// 1024 when it cannot be read or is unlimited.
size_t raise_fd_limit();

// The share of RLIMIT_NOFILE (raised first) each holder may keep open. With watches, the watches
// get half of it and the scanner at most the rest less `reserve`; without, the scanner gets all
// of it less `reserve`.
struct FdSplit {
  size_t scanner = 0;
  size_t watches = 0;
};
FdSplit split_fd_limit(bool with_watches, size_t reserve = kFdReserve);

// Grows the process's fd table to hold `fds` descriptors (at most kInitialFdTable), through a dup
// of `any_fd` that is closed again. Growing it while other threads exist waits for an RCU grace
// period (many milliseconds on a busy VM), once per doubling: growing it once up front, before the
// first walk opens a file per leaf, leaves at most a few such waits for the largest trees.
inline constexpr size_t kInitialFdTable = 4096;
void reserve_fd_table(int any_fd, size_t fds);

// The files one holder keeps open, counted against its share. Running out of descriptors anyway
// (EMFILE, ENFILE: another holder or the system took them) shrinks the share to what is kept.
class FdBudget {
 public:
  explicit FdBudget(size_t limit = 0) : limit_(limit) {}

  bool may_keep() const { return kept_ < limit_; }
  // Moves `fd` into `slot`, counted unless `slot` already held one.
  void keep(Fd& slot, Fd fd);
  // Closes the file in `slot`, if it holds one.
  void drop(Fd& slot);
  // io's open_file_at; EMFILE or ENFILE shrinks the budget to keep no more than already kept.
  IoResult<Fd> open_file_at(int dir_fd, const char* name);

  size_t kept() const { return kept_; }
  size_t limit() const { return limit_; }

 private:
  size_t limit_;
  size_t kept_ = 0;
};

}  // namespace cgmm::cgroup
