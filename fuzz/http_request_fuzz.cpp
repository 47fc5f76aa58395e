// What a client of the /metrics listener sends before the request head is complete.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "obs/http_message.h"

using namespace cgmm::obs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const size_t end = find_head_end(bytes);
  FUZZ_CHECK(end == std::string_view::npos || (end >= 2 && end <= bytes.size()));
  const std::string_view head = end == std::string_view::npos ? bytes : bytes.substr(0, end);
  if (auto request = parse_request_head(head)) {
    FUZZ_CHECK(!request->method.empty());
    FUZZ_CHECK(request->path.starts_with('/'));
    for (char c : request->path) {
      FUZZ_CHECK(c > ' ' && c < '\x7f' && c != '?');
    }
    // Empty lines after a complete head change nothing.
    auto again = parse_request_head(std::string(head) + "\r\n");
    FUZZ_CHECK(end == std::string_view::npos ||
               (again && again->method == request->method && again->path == request->path));
  }
  HttpResponse response{200, "text/plain", std::string(bytes)};
  const std::string out = format_response(response, true);
  FUZZ_CHECK(out.ends_with(bytes));
  FUZZ_CHECK(out.find("Content-Length: " + std::to_string(bytes.size()) + "\r\n") !=
             std::string::npos);
  FUZZ_CHECK(format_response(response, false).size() == out.size() - bytes.size());
  return 0;
}
