#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cgmm::obs {

// Where to listen. An empty host means every interface (IPv6 and IPv4 when the kernel has IPv6).
struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 literal, without brackets
  std::uint16_t port = 0;

  // ":9102", "127.0.0.1:9102", "[::1]:9102".
  std::string to_string() const;
  bool operator==(const ListenAddress&) const = default;
};

// Parses ":PORT", "IPV4:PORT" or "[IPV6]:PORT" with PORT in 1-65535; host names are not
// resolved. Throws std::invalid_argument quoting the text on anything else.
ListenAddress parse_listen_address(std::string_view text);

}  // namespace cgmm::obs
