#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cgmm::core {

using Duration = std::chrono::milliseconds;

// A parsed value, or the reason the text is not one (fit to follow the quoted text in a message).
template <typename T>
class Parsed {
 public:
  Parsed(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  static Parsed failure(std::string why) { return Parsed(Failure{std::move(why)}); }
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(v_); }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<1>(v_).why; }

 private:
  struct Failure {
    std::string why;
  };
  explicit Parsed(Failure f) : v_(std::move(f)) {}
  std::variant<T, Failure> v_;
};

// A byte count: a plain number is bytes; SI (k, KB, M, MB, ...) and IEC (Ki, KiB, Mi, MiB, ...)
// units up to E/Ei, any case, optional space and decimals ("1.5GiB", "512 mib", "100KB").
Parsed<uint64_t> parse_size(std::string_view text);

// A duration: a plain number is seconds; "ms", "s", "m"/"min", "h" units, decimals allowed.
// Millisecond resolution.
Parsed<Duration> parse_duration(std::string_view text);

// The cache level above which a cgroup is reclaimed: a percentage of its effective memory limit
// (0 < N <= 100, decimals allowed) or a fixed size (greater than 0).
class Threshold {
 public:
  static Threshold percent(double pct) { return Threshold(pct, 0); }
  static Threshold bytes(uint64_t b) { return Threshold(std::nullopt, b); }

  // The level in bytes for a cgroup with this effective limit. A percentage of no limit is no
  // level at all: empty.
  std::optional<uint64_t> bytes_for(std::optional<uint64_t> limit_bytes) const;

  bool is_percent() const { return percent_.has_value(); }
  // "25%" or "100 MiB".
  std::string to_string() const;

 private:
  Threshold(std::optional<double> pct, uint64_t b) : percent_(pct), bytes_(b) {}
  std::optional<double> percent_;
  uint64_t bytes_;
};

Parsed<Threshold> parse_threshold(std::string_view text);

// Whether a reclaim target is lower than a threshold as far as that can be told without a limit:
// two percentages or two sizes compare; a percentage and a size compare only per cgroup, and
// pass here.
bool target_below_threshold(const Threshold& target, const Threshold& threshold);

// "1.5 GiB", "640 KiB", "12 B": for people. Metrics and JSON carry exact bytes.
std::string format_bytes(uint64_t bytes);

// "250ms", "1.5s", "2m30s": for people.
std::string format_duration(Duration d);

}  // namespace cgmm::core
