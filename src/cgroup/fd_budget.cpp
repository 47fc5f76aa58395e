#include "cgroup/fd_budget.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>

#include "cgroup/io.h"

namespace cgmm::cgroup {

size_t raise_fd_limit() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
  });
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
    return 1024;
  }
  return static_cast<size_t>(rl.rlim_cur);
}

FdSplit split_fd_limit(bool with_watches, size_t reserve) {
  const size_t limit = raise_fd_limit();
  FdSplit split;
  split.watches = with_watches ? limit / 2 : 0;
  const size_t others = reserve + split.watches;
  split.scanner = limit > others ? limit - others : 0;
  return split;
}

void reserve_fd_table(int any_fd, size_t fds) {
  fds = std::min(fds, kInitialFdTable);
  if (fds > 0) {
    int fd = ::fcntl(any_fd, F_DUPFD_CLOEXEC, static_cast<int>(fds - 1));
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

IoResult<Fd> FdBudget::open_file_at(int dir_fd, const char* name) {
  auto fd = cgroup::open_file_at(dir_fd, name);
  if (!fd && (fd.error().err == EMFILE || fd.error().err == ENFILE)) {
    limit_ = kept_;
  }
  return fd;
}

void FdBudget::keep(Fd& slot, Fd fd) {
  if (!slot) {
    ++kept_;
  }
  slot = std::move(fd);
}

void FdBudget::drop(Fd& slot) {
  if (slot) {
    --kept_;
    slot.reset();
  }
}

}  // namespace cgmm::cgroup
