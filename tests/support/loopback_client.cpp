#include "support/loopback_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>

namespace cgmm::testing {

LoopbackClient::LoopbackClient(std::uint16_t port, std::chrono::seconds timeout)
    : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  const timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  connect_errno_ = connected_ ? 0 : errno;
}

LoopbackClient::~LoopbackClient() {
  ::close(fd_);
}

bool LoopbackClient::send(std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void LoopbackClient::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

std::string LoopbackClient::read_all(bool* timed_out) {
  std::string data;
  char buffer[4096];
  for (;;) {
    const auto n = ::recv(fd_, buffer, sizeof(buffer), 0);
    if (n > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (timed_out) {
      *timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return data;
  }
}

}  // namespace cgmm::testing
