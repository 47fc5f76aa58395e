// --threshold, --interval, --cooldown and --reclaim-target values as a user might type them.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "core/units.h"
#include "fuzz_check.h"

using namespace cgmm::core;

namespace {

bool is_plain_number(std::string_view s) {
  bool digit = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c != '.' && c != ' ') {
      return false;
    }
  }
  return digit;
}

void check_size(std::string_view text) {
  auto size = parse_size(text);
  if (!size) {
    FUZZ_CHECK(!size.error().empty());
    return;
  }
  const uint64_t v = *size;
  auto plain = parse_size(std::to_string(v));
  FUZZ_CHECK(plain && *plain == v);
  auto bytes = parse_size(std::to_string(v) + " B");
  FUZZ_CHECK(bytes && *bytes == v);
  // Scaling a plain number by a unit scales the result, truncated toward zero.
  if (is_plain_number(text)) {
    auto kib = parse_size(std::string(text) + "KiB");
    if (kib) {
      FUZZ_CHECK(*kib / 1024 == v);
    } else {
      FUZZ_CHECK(v > std::numeric_limits<uint64_t>::max() / 1024 - 1);
    }
  }
  FUZZ_CHECK(!format_bytes(v).empty());
}

void check_duration(std::string_view text) {
  auto d = parse_duration(text);
  if (!d) {
    FUZZ_CHECK(!d.error().empty());
    return;
  }
  FUZZ_CHECK(d->count() >= 0);
  auto ms = parse_duration(std::to_string(d->count()) + "ms");
  FUZZ_CHECK(ms && *ms == *d);
  FUZZ_CHECK(!format_duration(*d).empty());
}

void check_threshold(std::string_view text) {
  auto t = parse_threshold(text);
  if (!t) {
    FUZZ_CHECK(!t.error().empty());
    return;
  }
  FUZZ_CHECK(!t->to_string().empty());
  if (t->is_percent()) {
    // The percentage the daemon prints in its configuration reads back as about the same one.
    auto again = parse_threshold(t->to_string());
    FUZZ_CHECK(again && again->is_percent());
    constexpr uint64_t kLimit = uint64_t{1} << 40;
    const auto a = static_cast<double>(*t->bytes_for(kLimit));
    const auto b = static_cast<double>(*again->bytes_for(kLimit));
    FUZZ_CHECK(a - b <= a * 1e-5 + 1 && b - a <= a * 1e-5 + 1);
    FUZZ_CHECK(!t->bytes_for(std::nullopt));
    for (uint64_t limit : {uint64_t{0}, uint64_t{1}, uint64_t{4096}, uint64_t{1} << 30,
                           std::numeric_limits<uint64_t>::max()}) {
      auto level = t->bytes_for(limit);
      FUZZ_CHECK(level && *level <= limit);
    }
  } else {
    auto level = t->bytes_for(std::nullopt);
    FUZZ_CHECK(level && *level > 0 && t->bytes_for(4096) == level);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_size(text);
  check_duration(text);
  check_threshold(text);
  return 0;
}
