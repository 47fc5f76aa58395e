#include "obs/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "support/loopback_client.h"

namespace cgmm::obs {
namespace {

using namespace std::chrono_literals;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Every client socket gives up after this long, so a broken server fails a test instead of
// hanging it; here a server that neither answers nor closes in that time is a failure.
class Client : public cgmm::testing::LoopbackClient {
 public:
  explicit Client(std::uint16_t port) : LoopbackClient(port, std::chrono::seconds(10)) {}

  std::string read_all() {
    bool timed_out = false;
    std::string data = LoopbackClient::read_all(&timed_out);
    if (timed_out) {
      ADD_FAILURE() << "server neither answered nor closed within the client timeout";
    }
    return data;
  }

  std::string exchange(std::string_view request) {
    send(request);
    return read_all();
  }
};

std::string body_of(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

HttpServerOptions loopback_options() {
  HttpServerOptions options;
  options.address = {"127.0.0.1", 0};
  return options;
}

std::unique_ptr<HttpServer> started_server(HttpServerOptions options = loopback_options()) {
  auto server = std::make_unique<HttpServer>(std::move(options));
  server->handle("/metrics", [] {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", "cgmm_up 1\n"};
  });
  server->handle("/healthz", [] { return HttpResponse{200, "text/plain", "ok\n"}; });
  server->handle("/broken", []() -> HttpResponse { throw std::runtime_error("boom"); });
  server->start();
  return server;
}

TEST(HttpServer, GetServesTheRegisteredHandler) {
  const auto server = started_server();
  ASSERT_NE(server->port(), 0);
  Client client(server->port());
  ASSERT_TRUE(client.connected());
  const auto response = client.exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(body_of(response), "cgmm_up 1\n");
}

TEST(HttpServer, QueryStringIsIgnoredAndHttp10Works) {
  const auto server = started_server();
  Client client(server->port());
  const auto response = client.exchange("GET /healthz?verbose=1 HTTP/1.0\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(body_of(response), "ok\n");
}

TEST(HttpServer, HeadSendsHeadersWithoutBody) {
  const auto server = started_server();
  Client client(server->port());
  const auto response = client.exchange("HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Length: 10\r\n"));
  EXPECT_THAT(response, EndsWith("\r\n\r\n"));
}

TEST(HttpServer, UnknownPathIs404) {
  const auto server = started_server();
  Client client(server->port());
  EXPECT_THAT(client.exchange("GET /secret HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 404 "));
}

TEST(HttpServer, OtherMethodsAre405) {
  const auto server = started_server();
  Client client(server->port());
  const auto response = client.exchange("POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 405 "));
  EXPECT_THAT(response, HasSubstr("Allow: GET, HEAD\r\n"));
}

TEST(HttpServer, HandlerExceptionIs500) {
  const auto server = started_server();
  Client client(server->port());
  EXPECT_THAT(client.exchange("GET /broken HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 500 "));
}

TEST(HttpServer, GarbageIs400) {
  const auto server = started_server();
  using namespace std::string_literals;
  for (const auto& garbage :
       {"\x16\x03\x01\x02\x00 hello\r\n\r\n"s, "GET /metrics\r\n\r\n"s,
        "GET metrics HTTP/1.1\r\n\r\n"s, "GET /metrics HTTP/2.0\r\n\r\n"s,
        "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n"s,
        "GET /metrics HTTP/1.1\r\n folded: header\r\n\r\n"s, "GET / metrics HTTP/1.1\r\n\r\n"s}) {
    Client client(server->port());
    EXPECT_THAT(client.exchange(garbage), StartsWith("HTTP/1.1 400 ")) << garbage;
  }
}

TEST(HttpServer, IncompleteRequestThenEofIs400) {
  const auto server = started_server();
  Client client(server->port());
  client.send("GET /metrics HTTP/1.1\r\n");
  client.shutdown_write();
  EXPECT_THAT(client.read_all(), StartsWith("HTTP/1.1 400 "));
}

TEST(HttpServer, OversizedHeadersAre431) {
  auto options = loopback_options();
  options.max_header_bytes = 8 * 1024;
  const auto server = started_server(options);
  Client client(server->port());
  const auto response =
      client.exchange("GET /metrics HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 431 "));
}

TEST(HttpServer, HeadersJustUnderTheCapAreServed) {
  const auto server = started_server();
  Client client(server->port());
  const std::string head = "GET /metrics HTTP/1.1\r\nX-Big: ";
  const std::string request = head + std::string(8 * 1024 - head.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(request.size(), 8U * 1024);
  EXPECT_THAT(client.exchange(request), StartsWith("HTTP/1.1 200 "));
}

TEST(HttpServer, SilentClientIsDroppedWith408) {
  auto options = loopback_options();
  options.request_timeout = 100ms;
  const auto server = started_server(options);
  Client client(server->port());
  EXPECT_THAT(client.read_all(), StartsWith("HTTP/1.1 408 "));
}

TEST(HttpServer, ConnectionsBeyondTheCapAreClosedAtOnce) {
  constexpr std::size_t kCap = 4;
  constexpr std::size_t kClients = 12;
  auto options = loopback_options();
  options.max_connections = kCap;
  const auto server = started_server(options);

  std::vector<std::unique_ptr<Client>> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(server->port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  // The server accepts in arrival order: the first kCap stay open and idle, every later one is
  // closed without a byte.
  for (std::size_t i = kCap; i < kClients; ++i) {
    EXPECT_EQ(clients[i]->read_all(), "") << "client " << i;
  }
  for (std::size_t i = 0; i < kCap; ++i) {
    EXPECT_THAT(clients[i]->exchange("GET /healthz HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 200 "))
        << "client " << i;
  }
  // Once those clients hang up, the slots are free again.
  clients.clear();
  Client late(server->port());
  EXPECT_THAT(late.exchange("GET /healthz HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 200 "));
}

TEST(HttpServer, StopClosesEverythingAndReturns) {
  auto server = started_server();
  const auto port = server->port();
  Client idle(port);
  ASSERT_TRUE(idle.connected());
  server->stop();
  EXPECT_EQ(idle.read_all(), "");
  Client after(port);
  EXPECT_FALSE(after.connected());
  EXPECT_EQ(after.connect_errno(), ECONNREFUSED);
  server->stop();  // idempotent
}

TEST(HttpServer, BusyPortIsAClearError) {
  const auto first = started_server();
  HttpServerOptions options;
  options.address = {"127.0.0.1", first->port()};
  HttpServer second(options);
  try {
    second.start();
    FAIL() << "a second listener on the same port started";
  } catch (const std::system_error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("failed to listen on 127.0.0.1:" + std::to_string(first->port())));
    EXPECT_EQ(e.code().value(), EADDRINUSE);
  }
}

TEST(ListenAddress, ParsesTheThreeForms) {
  EXPECT_EQ(parse_listen_address(":9102"), (ListenAddress{"", 9102}));
  EXPECT_EQ(parse_listen_address("127.0.0.1:9102"), (ListenAddress{"127.0.0.1", 9102}));
  EXPECT_EQ(parse_listen_address("[::1]:9102"), (ListenAddress{"::1", 9102}));
  EXPECT_EQ(parse_listen_address("[::]:65535"), (ListenAddress{"::", 65535}));
}

TEST(ListenAddress, PrintsBackTheSameForm) {
  for (const std::string text : {":9102", "127.0.0.1:9102", "[::1]:9102"}) {
    EXPECT_EQ(parse_listen_address(text).to_string(), text);
  }
}

TEST(ListenAddress, RejectsBadInputQuotingIt) {
  for (const std::string bad :
       {"", "9102", ":", ":0", ":65536", ":99999999", ":91a2", "localhost:9102", "::1:9102",
        "[::1]9102", "[::1:9102", "[127.0.0.1]:9102", "1.2.3:9102", "127.0.0.1:-1", " :9102"}) {
    try {
      parse_listen_address(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), StartsWith("invalid listen address \"" + bad + "\": ")) << bad;
    }
  }
}

TEST(HttpMessage, FindsTheEndOfTheHead) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nA: b\r\n\r\nbody"), 24U);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\n\n"), 16U);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nA: b\r\n"), std::string_view::npos);
}

}  // namespace
}  // namespace cgmm::obs
