#include "obs/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <stdexcept>

namespace cgmm::obs {
namespace {

[[noreturn]] void reject(std::string_view text, std::string_view reason) {
  throw std::invalid_argument("invalid listen address \"" + std::string(text) + "\": " +
                              std::string(reason) + " (expected :PORT, IPV4:PORT or [IPV6]:PORT)");
}

std::uint16_t parse_port(std::string_view text, std::string_view port) {
  constexpr unsigned kMaxPort = 65535;
  if (port.empty() || port.size() > 5 ||
      !std::ranges::all_of(port, [](char c) { return c >= '0' && c <= '9'; })) {
    reject(text, "port must be a number");
  }
  unsigned value = 0;
  for (const char c : port) {
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > kMaxPort) {
    reject(text, "port must be in 1-65535");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string ListenAddress::to_string() const {
  const auto port_text = std::to_string(port);
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + port_text;
  }
  return host + ":" + port_text;
}

ListenAddress parse_listen_address(std::string_view text) {
  ListenAddress address;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      reject(text, "missing ']'");
    }
    address.host = std::string(text.substr(1, close - 1));
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      reject(text, "missing ':PORT' after ']'");
    }
    port = text.substr(close + 2);
    in6_addr ipv6{};
    if (::inet_pton(AF_INET6, address.host.c_str(), &ipv6) != 1) {
      reject(text, "not an IPv6 address between the brackets");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      reject(text, "missing ':PORT'");
    }
    address.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (address.host.find(':') != std::string::npos) {
      reject(text, "IPv6 addresses go between brackets");
    }
    in_addr ipv4{};
    if (!address.host.empty() && ::inet_pton(AF_INET, address.host.c_str(), &ipv4) != 1) {
      reject(text, "host must be an IP address such as 127.0.0.1");
    }
  }
  address.port = parse_port(text, port);
  return address;
}

}  // namespace cgmm::obs
