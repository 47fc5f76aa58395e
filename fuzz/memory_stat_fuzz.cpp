// memory.stat (v1 and v2) and memory.max as a kernel, or anything else, might write them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cgroup/memory_stat.h"
#include "fuzz_check.h"

using namespace cgmm::cgroup;

namespace {

// Whether some line reads "key <value>", the number written in decimal with optional leading
// zeros, as the parser must have taken it from.
bool has_line(std::string_view text, std::string_view key, uint64_t value) {
  const std::string digits = std::to_string(value);
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.size() <= key.size() || !line.starts_with(key) || line[key.size()] != ' ') {
      continue;
    }
    line.remove_prefix(key.size() + 1);
    while (line.size() > 1 && line.front() == '0') {
      line.remove_prefix(1);
    }
    if (line == digits) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto v1 = parse_memory_stat(text, Version::kV1)) {
    FUZZ_CHECK(has_line(text, "cache", v1->cache_bytes));
    FUZZ_CHECK(!v1->limit_bytes || *v1->limit_bytes < kNoLimitFloor);
  }
  if (auto v2 = parse_memory_stat(text, Version::kV2)) {
    FUZZ_CHECK(has_line(text, "file", v2->cache_bytes));
    // v2 memory.stat has no limit; it comes from memory.max.
    FUZZ_CHECK(!v2->limit_bytes);
  }
  if (auto max = parse_memory_max(text)) {
    if (*max) {
      FUZZ_CHECK(**max < kNoLimitFloor);
      auto again = parse_memory_max(std::to_string(**max) + "\n");
      FUZZ_CHECK(again && *again == *max);
    }
  }
  return 0;
}
