#include "obs/http_message.h"

#include <algorithm>
#include <vector>

namespace cgmm::obs {
namespace {

// RFC 9110 token characters, as method and header names use.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, is_token_char);
}

// Printable ASCII without space, as a request target must be.
bool is_target_char(char c) {
  return c > ' ' && c < '\x7f';
}

std::vector<std::string_view> split_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const auto newline = head.find('\n');
    auto line = head.substr(0, newline);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    if (newline == std::string_view::npos) {
      break;
    }
    head.remove_prefix(newline + 1);
  }
  while (!lines.empty() && lines.back().empty()) {
    lines.pop_back();
  }
  return lines;
}

bool is_header_line(std::string_view line) {
  const auto colon = line.find(':');
  return colon != std::string_view::npos && is_token(line.substr(0, colon)) &&
         line.find_first_of("\r\n") == std::string_view::npos;
}

}  // namespace

std::size_t find_head_end(std::string_view data) {
  for (auto newline = data.find('\n'); newline != std::string_view::npos;
       newline = data.find('\n', newline + 1)) {
    const auto rest = data.substr(newline + 1);
    if (rest.starts_with('\n')) {
      return newline + 2;
    }
    if (rest.starts_with("\r\n")) {
      return newline + 3;
    }
  }
  return std::string_view::npos;
}

std::optional<HttpRequest> parse_request_head(std::string_view head) {
  const auto lines = split_lines(head);
  if (lines.empty()) {
    return std::nullopt;
  }
  const auto request_line = lines.front();
  const auto first_space = request_line.find(' ');
  const auto last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return std::nullopt;
  }
  const auto method = request_line.substr(0, first_space);
  const auto target = request_line.substr(first_space + 1, last_space - first_space - 1);
  const auto version = request_line.substr(last_space + 1);
  if (!is_token(method) || (version != "HTTP/1.1" && version != "HTTP/1.0") ||
      !target.starts_with('/') || !std::ranges::all_of(target, is_target_char)) {
    return std::nullopt;
  }
  if (!std::all_of(lines.begin() + 1, lines.end(), is_header_line)) {
    return std::nullopt;
  }
  return HttpRequest{std::string(method), std::string(target.substr(0, target.find('?')))};
}

std::string format_response(const HttpResponse& response, bool with_body,
                            std::string_view extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
  out += reason_phrase(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: " + std::to_string(response.body.size());
  out += "\r\nConnection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  if (with_body) {
    out += response.body;
  }
  return out;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace cgmm::obs
