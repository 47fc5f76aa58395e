#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cgmm::testing {

// A raw TCP client of a listener on 127.0.0.1, for sending requests a well-behaved HTTP client
// would not (garbage, oversized heads, one byte at a time). Every send and receive gives up after
// `timeout`, so a listener that holds a connection forever fails a test instead of hanging it.
class LoopbackClient {
 public:
  LoopbackClient(std::uint16_t port, std::chrono::seconds timeout);
  ~LoopbackClient();
  LoopbackClient(const LoopbackClient&) = delete;
  LoopbackClient& operator=(const LoopbackClient&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  // False once the server stopped taking data (it answered and closed, or reset).
  bool send(std::string_view data);
  void shutdown_write();

  // Everything until the server closes or resets; `timed_out` tells a server that held on.
  std::string read_all(bool* timed_out = nullptr);

  std::string request(std::string_view data) {
    send(data);
    return read_all();
  }

 private:
  int fd_;
  bool connected_ = false;
  int connect_errno_ = 0;
};

}  // namespace cgmm::testing
