#pragma once

namespace cgmm::testing {

// A socket pair for handing one file descriptor from a forked child to its parent.
class FdChannel {
 public:
  FdChannel();
  ~FdChannel();
  FdChannel(const FdChannel&) = delete;
  FdChannel& operator=(const FdChannel&) = delete;

  // In the child: sends `fd` (SCM_RIGHTS). False on failure.
  bool send(int fd);
  // In the parent: the received descriptor, or -1.
  int receive();

 private:
  int ends_[2] = {-1, -1};
};

}  // namespace cgmm::testing
