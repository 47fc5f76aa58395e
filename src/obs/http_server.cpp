#include "obs/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>
#include <utility>
#include <vector>

#include "cgroup/fd.h"

namespace cgmm::obs {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 4096;
// After EMFILE and the like the listener stays readable; pausing accept avoids a busy loop.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

enum class Phase { kReading, kWriting, kDraining, kClosed };

struct Connection {
  cgroup::Fd fd;
  Clock::time_point deadline;
  Phase phase = Phase::kReading;
  std::string in;
  std::string out;
  std::size_t written = 0;
};

std::system_error listen_error(int error, const ListenAddress& address, std::string_view step) {
  return {error, std::generic_category(),
          "failed to " + std::string(step) + " " + address.to_string()};
}

// An empty host binds [::] with IPV6_V6ONLY off, so IPv4 clients are served too; a kernel
// without IPv6 gets 0.0.0.0 instead.
cgroup::Fd bind_listener(const ListenAddress& address) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  bool dual_stack = false;
  in_addr ipv4{};
  if (!address.host.empty() && ::inet_pton(AF_INET, address.host.c_str(), &ipv4) == 1) {
    auto& sin = reinterpret_cast<sockaddr_in&>(storage);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(address.port);
    sin.sin_addr = ipv4;
    length = sizeof(sin);
  } else {
    auto& sin6 = reinterpret_cast<sockaddr_in6&>(storage);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(address.port);
    sin6.sin6_addr = in6addr_any;
    if (!address.host.empty() &&
        ::inet_pton(AF_INET6, address.host.c_str(), &sin6.sin6_addr) != 1) {
      throw listen_error(EINVAL, address, "parse");
    }
    dual_stack = address.host.empty();
    length = sizeof(sin6);
  }
  cgroup::Fd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 && dual_stack && errno == EAFNOSUPPORT) {
    auto& sin = reinterpret_cast<sockaddr_in&>(storage);
    sin = sockaddr_in{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(address.port);
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    length = sizeof(sin);
    dual_stack = false;
    fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  }
  if (fd.get() < 0) {
    throw listen_error(errno, address, "create a socket for");
  }
  const int on = 1;
  const int off = 0;
  // SO_REUSEADDR lets a restarted daemon bind while old connections sit in TIME_WAIT.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (dual_stack) {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&storage), length) != 0) {
    throw listen_error(errno, address, "listen on");
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    throw listen_error(errno, address, "listen on");
  }
  return fd;
}

std::uint16_t bound_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return 0;
  }
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(storage).sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in&>(storage).sin_port);
}

HttpResponse plain(int status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

class Loop {
 public:
  Loop(const HttpServerOptions& options,
       const std::map<std::string, HttpHandler, std::less<>>& handlers, int listen_fd, int wake_fd)
      : options_(options), handlers_(handlers), listen_fd_(listen_fd), wake_fd_(wake_fd) {}

  void run() {
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      const auto now = Clock::now();
      const bool accepting = now >= accept_paused_until_;
      fds.push_back({wake_fd_, POLLIN, 0});
      fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
      for (const auto& c : connections_) {
        fds.push_back(
            {c.fd.get(), static_cast<short>(c.phase == Phase::kWriting ? POLLOUT : POLLIN), 0});
      }
      if (::poll(fds.data(), fds.size(), timeout_ms(now, accepting)) < 0) {
        if (errno == EINTR) {
          continue;
        }
        return;
      }
      if (fds[0].revents != 0) {
        return;
      }
      // Serve and expire before accepting, so slots freed in this round count against the cap.
      for (std::size_t i = 0; i < connections_.size(); ++i) {
        if (fds[i + 2].revents != 0) {
          on_ready(connections_[i]);
        }
      }
      const auto after = Clock::now();
      for (auto& c : connections_) {
        if (c.phase != Phase::kClosed && after >= c.deadline) {
          on_timeout(c);
        }
      }
      std::erase_if(connections_, [](const Connection& c) { return c.phase == Phase::kClosed; });
      if (fds[1].revents != 0) {
        accept_all();
      }
    }
  }

 private:
  int timeout_ms(Clock::time_point now, bool accepting) const {
    auto next = Clock::time_point::max();
    for (const auto& c : connections_) {
      next = std::min(next, c.deadline);
    }
    if (!accepting) {
      next = std::min(next, accept_paused_until_);
    }
    if (next == Clock::time_point::max()) {
      return -1;
    }
    if (next <= now) {
      return 0;
    }
    // Rounded up, so the loop does not wake just before a deadline and spin.
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
    return static_cast<int>(std::min<decltype(wait)>(wait, 60'000));
  }

  void accept_all() {
    for (;;) {
      cgroup::Fd fd(::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (fd.get() < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) {
          continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          accept_paused_until_ = Clock::now() + kAcceptPause;
        }
        return;
      }
      if (connections_.size() >= options_.max_connections) {
        continue;
      }
      Connection c;
      c.fd = std::move(fd);
      c.deadline = Clock::now() + options_.request_timeout;
      connections_.push_back(std::move(c));
    }
  }

  void on_ready(Connection& c) {
    switch (c.phase) {
      case Phase::kReading:
        read_request(c);
        break;
      case Phase::kWriting:
        write_response(c);
        break;
      case Phase::kDraining:
        drain(c);
        break;
      case Phase::kClosed:
        break;
    }
  }

  void read_request(Connection& c) {
    std::array<char, kReadChunk> buffer{};
    const auto n = ::recv(c.fd.get(), buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        close(c);
      }
      return;
    }
    if (n == 0) {
      // The client finished sending without completing a head.
      if (c.in.empty()) {
        close(c);
      } else {
        respond(c, plain(400, "malformed request\n"), true);
      }
      return;
    }
    c.in.append(buffer.data(), static_cast<std::size_t>(n));
    const auto end = find_head_end(c.in);
    if (end == std::string::npos || end > options_.max_header_bytes) {
      if (c.in.size() > options_.max_header_bytes) {
        respond(c, plain(431, "request header fields too large\n"), true);
      }
      return;
    }
    serve(c, std::string_view(c.in).substr(0, end));
  }

  void serve(Connection& c, std::string_view head) {
    const auto request = parse_request_head(head);
    if (!request) {
      respond(c, plain(400, "malformed request\n"), true);
      return;
    }
    const bool head_only = request->method == "HEAD";
    if (request->method != "GET" && !head_only) {
      respond(c, plain(405, "only GET and HEAD are served\n"), true, "Allow: GET, HEAD\r\n");
      return;
    }
    const auto handler = handlers_.find(request->path);
    if (handler == handlers_.end()) {
      respond(c, plain(404, "not found\n"), !head_only);
      return;
    }
    HttpResponse response;
    try {
      response = handler->second();
    } catch (...) {
      response = plain(500, "internal error\n");
    }
    respond(c, response, !head_only);
  }

  void respond(Connection& c, const HttpResponse& response, bool with_body,
               std::string_view extra_headers = {}) {
    c.in.clear();
    c.out = format_response(response, with_body, extra_headers);
    c.written = 0;
    c.phase = Phase::kWriting;
    write_response(c);
  }

  void write_response(Connection& c) {
    while (c.written < c.out.size()) {
      const auto n =
          ::send(c.fd.get(), c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          close(c);
        }
        return;
      }
      c.written += static_cast<std::size_t>(n);
    }
    // Half-close and read until the client closes: closing with unread request bytes would
    // make the kernel send a reset, which can destroy the response before the client reads it.
    ::shutdown(c.fd.get(), SHUT_WR);
    c.out.clear();
    c.phase = Phase::kDraining;
  }

  void drain(Connection& c) {
    std::array<char, kReadChunk> buffer{};
    const auto n = ::recv(c.fd.get(), buffer.data(), buffer.size(), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close(c);
    }
  }

  void on_timeout(Connection& c) {
    if (c.phase == Phase::kReading) {
      // Best effort: a single non-blocking send into an empty socket buffer.
      const auto out = format_response(plain(408, "request timeout\n"), true);
      (void)::send(c.fd.get(), out.data(), out.size(), MSG_NOSIGNAL);
    }
    close(c);
  }

  static void close(Connection& c) {
    c.fd.reset();
    c.phase = Phase::kClosed;
  }

  const HttpServerOptions& options_;
  const std::map<std::string, HttpHandler, std::less<>>& handlers_;
  const int listen_fd_;
  const int wake_fd_;
  std::vector<Connection> connections_;
  Clock::time_point accept_paused_until_{};
};

}  // namespace

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::handle(std::string path, HttpHandler handler) {
  handlers_.insert_or_assign(std::move(path), std::move(handler));
}

void HttpServer::start() {
  if (thread_.joinable()) {
    return;
  }
  cgroup::Fd listener = bind_listener(options_.address);
  cgroup::Fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake.get() < 0) {
    throw std::system_error(errno, std::generic_category(), "failed to create an eventfd");
  }
  port_ = bound_port(listener.get());
  listen_fd_ = listener.release();
  wake_fd_ = wake.release();
  thread_ = std::thread([this] { run(); });
}

void HttpServer::stop() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    // An eventfd write of 1 cannot block or fail short while the counter is far from its max.
    (void)::write(wake_fd_, &one, sizeof(one));
    thread_.join();
  }
  for (int* fd : {&listen_fd_, &wake_fd_}) {
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  }
}

void HttpServer::run() {
  Loop(options_, handlers_, listen_fd_, wake_fd_).run();
}

}  // namespace cgmm::obs
