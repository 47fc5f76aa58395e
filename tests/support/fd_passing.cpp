#include "support/fd_passing.h"

#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace cgmm::testing {

namespace {

// One byte of data with room for one descriptor (SCM_RIGHTS): what send and receive exchange.
struct FdMessage {
  FdMessage() = default;
  FdMessage(const FdMessage&) = delete;  // msg points into the object itself
  FdMessage& operator=(const FdMessage&) = delete;

  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{nullptr, 0, &iov, 1, control, sizeof control, 0};
};

}  // namespace

FdChannel::FdChannel() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    throw std::runtime_error("socketpair failed");
  }
  parent_end_.reset(ends[0]);
  child_end_.reset(ends[1]);
}

bool FdChannel::send(int fd) {
  FdMessage m;
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return ::sendmsg(child_end_.get(), &m.msg, 0) == 1;
}

int FdChannel::receive() {
  FdMessage m;
  if (::recvmsg(parent_end_.get(), &m.msg, MSG_CMSG_CLOEXEC) != 1) {
    return -1;
  }
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) {
    return -1;
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}

}  // namespace cgmm::testing
