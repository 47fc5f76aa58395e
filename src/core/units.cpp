#include "core/units.h"

#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>

namespace cgmm::core {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// "12.5xyz" -> whole "12", frac "5", rest "xyz". Fails when there is no digit before the rest.
struct Number {
  std::string_view whole;
  std::string_view frac;
  std::string_view rest;
};

std::optional<Number> split_number(std::string_view s) {
  Number n;
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    ++i;
  }
  n.whole = s.substr(0, i);
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
    }
    n.frac = s.substr(start, i - start);
  }
  if (n.whole.empty() && n.frac.empty()) {
    return std::nullopt;
  }
  n.rest = trim(s.substr(i));
  return n;
}

// whole.frac * multiplier, truncated toward zero; empty on overflow of uint64.
std::optional<uint64_t> scale(const Number& n, uint64_t multiplier) {
  __extension__ using U128 = unsigned __int128;
  constexpr U128 kMax = std::numeric_limits<uint64_t>::max();
  U128 whole = 0;
  for (char c : n.whole) {
    whole = whole * 10 + static_cast<unsigned>(c - '0');
    if (whole > kMax) {
      return std::nullopt;
    }
  }
  U128 total = whole * multiplier;
  // Up to 18 fractional digits matter for any multiplier up to 2^60.
  U128 frac = 0;
  U128 denom = 1;
  for (size_t i = 0; i < n.frac.size() && i < 18; ++i) {
    frac = frac * 10 + static_cast<unsigned>(n.frac[i] - '0');
    denom *= 10;
  }
  total += frac * multiplier / denom;
  if (total > kMax) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(total);
}

std::string quoted(std::string_view s) {
  std::string q = "\"";
  q += s;
  q += '"';
  return q;
}

struct Unit {
  const char* name;
  uint64_t multiplier;
};

constexpr uint64_t kK = 1000;
constexpr uint64_t kKi = 1024;
constexpr Unit kSizeUnits[] = {
    {"", 1},
    {"b", 1},
    {"k", kK},
    {"kb", kK},
    {"ki", kKi},
    {"kib", kKi},
    {"m", kK* kK},
    {"mb", kK* kK},
    {"mi", kKi* kKi},
    {"mib", kKi* kKi},
    {"g", kK* kK* kK},
    {"gb", kK* kK* kK},
    {"gi", kKi* kKi* kKi},
    {"gib", kKi* kKi* kKi},
    {"t", kK* kK* kK* kK},
    {"tb", kK* kK* kK* kK},
    {"ti", kKi* kKi* kKi* kKi},
    {"tib", kKi* kKi* kKi* kKi},
    {"p", kK* kK* kK* kK* kK},
    {"pb", kK* kK* kK* kK* kK},
    {"pi", kKi* kKi* kKi* kKi* kKi},
    {"pib", kKi* kKi* kKi* kKi* kKi},
    {"e", kK* kK* kK* kK* kK* kK},
    {"eb", kK* kK* kK* kK* kK* kK},
    {"ei", kKi* kKi* kKi* kKi* kKi* kKi},
    {"eib", kKi* kKi* kKi* kKi* kKi* kKi},
};

constexpr Unit kDurationUnits[] = {
    {"", kK}, {"ms", 1}, {"s", kK}, {"m", 60 * kK}, {"min", 60 * kK}, {"h", 3600 * kK},
};

template <size_t N>
std::optional<uint64_t> find_unit(const Unit (&units)[N], std::string_view name) {
  std::string l = lower(name);
  for (const Unit& u : units) {
    if (l == u.name) {
      return u.multiplier;
    }
  }
  return std::nullopt;
}

}  // namespace

Parsed<uint64_t> parse_size(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) {
    return Parsed<uint64_t>::failure("empty size");
  }
  if (s.front() == '-') {
    return Parsed<uint64_t>::failure("size " + quoted(text) + " is negative");
  }
  auto n = split_number(s);
  if (!n) {
    return Parsed<uint64_t>::failure(quoted(text) +
                                     " is not a size (examples: 512MiB, 1.5G, 100KB)");
  }
  auto mult = find_unit(kSizeUnits, n->rest);
  if (!mult) {
    return Parsed<uint64_t>::failure("size " + quoted(text) + " has unknown unit " +
                                     quoted(n->rest) + " (use B, KB, KiB, MB, MiB, GB, GiB, ...)");
  }
  auto v = scale(*n, *mult);
  if (!v) {
    return Parsed<uint64_t>::failure("size " + quoted(text) + " is too large");
  }
  return *v;
}

Parsed<Duration> parse_duration(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) {
    return Parsed<Duration>::failure("empty duration");
  }
  if (s.front() == '-') {
    return Parsed<Duration>::failure("duration " + quoted(text) + " is negative");
  }
  auto n = split_number(s);
  if (!n) {
    return Parsed<Duration>::failure(quoted(text) +
                                     " is not a duration (examples: 10, 500ms, 1.5s, 2m, 1h)");
  }
  auto mult = find_unit(kDurationUnits, n->rest);
  if (!mult) {
    return Parsed<Duration>::failure("duration " + quoted(text) + " has unknown unit " +
                                     quoted(n->rest) + " (use ms, s, m or h)");
  }
  auto ms = scale(*n, *mult);
  if (!ms || *ms > static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max())) {
    return Parsed<Duration>::failure("duration " + quoted(text) + " is too large");
  }
  return Duration(static_cast<Duration::rep>(*ms));
}

std::optional<uint64_t> Threshold::bytes_for(std::optional<uint64_t> limit_bytes) const {
  if (!percent_) {
    return bytes_;
  }
  if (!limit_bytes) {
    return std::nullopt;
  }
  long double level = static_cast<long double>(*limit_bytes) * *percent_ / 100.0L;
  return static_cast<uint64_t>(level);
}

std::string Threshold::to_string() const {
  if (!percent_) {
    return format_bytes(bytes_);
  }
  // Percentages are exact to millionths; "%g" would print 0.000001 as "1e-06", which is not a
  // threshold a user could type back.
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", *percent_);
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') {
    s.pop_back();
  }
  return s + "%";
}

Parsed<Threshold> parse_threshold(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) {
    return Parsed<Threshold>::failure("empty threshold");
  }
  if (s.back() != '%') {
    auto size = parse_size(s);
    if (!size) {
      return Parsed<Threshold>::failure(size.error() +
                                        "; a threshold is N% of the limit or a size");
    }
    if (*size == 0) {
      return Parsed<Threshold>::failure("threshold " + quoted(text) + " must be greater than 0");
    }
    return Threshold::bytes(*size);
  }
  s.remove_suffix(1);
  s = trim(s);
  auto n = split_number(s);
  if (!n || !n->rest.empty() || n->whole.size() > 3) {
    return Parsed<Threshold>::failure(quoted(text) + " is not a percentage (examples: 25%, 12.5%)");
  }
  // Exact to millionths of a percent, which is far below a page of any real limit.
  auto micro = scale(*n, 1'000'000);
  if (!micro || *micro == 0 || *micro > 100'000'000) {
    return Parsed<Threshold>::failure("percentage " + quoted(text) +
                                      " must be greater than 0 and at most 100");
  }
  return Threshold::percent(static_cast<double>(*micro) / 1e6);
}

bool target_below_threshold(const Threshold& target, const Threshold& threshold) {
  // Any limit serves for two percentages; 1e9 bytes keeps millionths of a percent apart.
  constexpr uint64_t kAnyLimit = 1'000'000'000;
  return target.is_percent() != threshold.is_percent() ||
         target.bytes_for(kAnyLimit) < threshold.bytes_for(kAnyLimit);
}

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) {
    return std::to_string(bytes) + " B";
  }
  auto v = static_cast<double>(bytes);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string format_duration(Duration d) {
  auto ms = d.count();
  char buf[48];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 3'600'000) {
    long long s = ms / 1000;
    std::snprintf(buf, sizeof buf, s % 60 ? "%lldm%llds" : "%lldm", s / 60, s % 60);
  } else {
    long long m = ms / 60'000;
    std::snprintf(buf, sizeof buf, m % 60 ? "%lldh%lldm" : "%lldh", m / 60, m % 60);
  }
  return buf;
}

}  // namespace cgmm::core
