#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cgmm::testing {

struct HttpGetResult {
  int status = 0;
  std::string body;
};

// One HTTP/1.0 GET of `target` ("/path?query") from 127.0.0.1:`port`, reading until the server
// closes. Empty when the connection fails, the answer is not HTTP, or the server neither answers
// nor closes within `timeout` (applied to each socket operation).
std::optional<HttpGetResult> http_get(std::uint16_t port, std::string_view target,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
std::uint16_t free_loopback_port();

// Percent-encodes everything but RFC 3986 unreserved characters, for a query string value.
std::string url_encode(std::string_view text);

}  // namespace cgmm::testing
