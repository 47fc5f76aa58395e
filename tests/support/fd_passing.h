#pragma once

#include "cgroup/fd.h"

namespace cgmm::testing {

// A socket pair for handing one file descriptor from a forked child to its parent. Not copyable.
class FdChannel {
 public:
  FdChannel();

  // In the child: sends `fd` (SCM_RIGHTS). False on failure.
  bool send(int fd);
  // In the parent: the received descriptor, or -1.
  int receive();

 private:
  cgroup::Fd parent_end_;
  cgroup::Fd child_end_;
};

}  // namespace cgmm::testing
