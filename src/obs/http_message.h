#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cgmm::obs {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpRequest {
  std::string method;
  std::string path;  // the target without query string
};

// Offset just past the empty line that ends the request head (CRLF or bare LF line ends), or
// std::string_view::npos when the head is not complete yet.
std::size_t find_head_end(std::string_view data);

// Parses a complete request head: "METHOD /path[?query] HTTP/1.x" and "Name: value" lines.
// nullopt when it is not well-formed HTTP/1.0 or 1.1 in origin form.
std::optional<HttpRequest> parse_request_head(std::string_view head);

// The bytes of a response with Content-Length and Connection: close; `extra_headers` are whole
// "Name: value\r\n" lines. The body is left out for HEAD (`with_body` false).
std::string format_response(const HttpResponse& response, bool with_body,
                            std::string_view extra_headers = {});

std::string_view reason_phrase(int status);

}  // namespace cgmm::obs
