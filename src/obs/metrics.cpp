#include "obs/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <system_error>

namespace cgmm::obs {
namespace {

constexpr double kPlainMin = 1e-4;
constexpr double kPlainMax = 1e15;

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

// Metric names may also hold ':' (reserved for recording rules, accepted by the format).
bool is_metric_name(std::string_view name) {
  return !name.empty() && (is_name_start(name[0]) || name[0] == ':') &&
         std::ranges::all_of(name, [](char c) { return is_name_char(c) || c == ':'; });
}

bool is_label_name(std::string_view name) {
  return !name.empty() && is_name_start(name[0]) && std::ranges::all_of(name, is_name_char) &&
         !name.starts_with("__");
}

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void append_line(std::string& out, std::string_view name, std::string_view suffix,
                 std::string_view labels, std::string_view value) {
  out += name;
  out += suffix;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string format_value(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  // Integers print as integers and everyday magnitudes without an exponent, for people reading
  // the page; every form is the shortest that parses back to the same double.
  const double magnitude = std::fabs(value);
  if (magnitude < kPlainMax && value == std::trunc(value)) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  std::array<char, 64> buffer{};
  const auto format = magnitude >= kPlainMin && magnitude < kPlainMax ? std::chars_format::fixed
                                                                      : std::chars_format::general;
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, format);
  return {buffer.data(), result.ptr};
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Counter::inc(double amount) {
  if (amount > 0) {
    value_.fetch_add(amount, std::memory_order_relaxed);
  }
}

void Gauge::inc(double amount) {
  value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::span<const double> upper_bounds)
    : upper_bounds_(upper_bounds), bucket_counts_(upper_bounds.size(), 0) {}

void Histogram::observe(double value) {
  if (std::isnan(value)) {
    return;
  }
  // Buckets are inclusive of their upper bound (le = "less or equal").
  const auto bucket = std::ranges::lower_bound(upper_bounds_, value) - upper_bounds_.begin();
  const std::lock_guard lock(mutex_);
  if (static_cast<std::size_t>(bucket) < bucket_counts_.size()) {
    ++bucket_counts_[static_cast<std::size_t>(bucket)];
  }
  ++count_;
  sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  const std::lock_guard lock(mutex_);
  snapshot.cumulative_counts.reserve(bucket_counts_.size());
  std::uint64_t running = 0;
  for (const auto n : bucket_counts_) {
    running += n;
    snapshot.cumulative_counts.push_back(running);
  }
  snapshot.count = count_;
  snapshot.sum = sum_;
  return snapshot;
}

namespace detail {

void render_header(std::string& out, std::string_view name, std::string_view help,
                   MetricType type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape_help(help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type_name(type);
  out += '\n';
}

void render_sample(std::string& out, std::string_view name, std::string_view labels,
                   const Counter& counter) {
  append_line(out, name, "", labels, format_value(counter.value()));
}

void render_sample(std::string& out, std::string_view name, std::string_view labels,
                   const Gauge& gauge) {
  append_line(out, name, "", labels, format_value(gauge.value()));
}

void render_sample(std::string& out, std::string_view name, std::string_view labels,
                   const Histogram& histogram, std::span<const double> upper_bounds) {
  const auto snapshot = histogram.snapshot();
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    append_line(out, name, "_bucket", prefix + "le=\"" + format_value(upper_bounds[i]) + "\"",
                std::to_string(snapshot.cumulative_counts[i]));
  }
  const auto count = std::to_string(snapshot.count);
  append_line(out, name, "_bucket", prefix + "le=\"+Inf\"", count);
  append_line(out, name, "_sum", labels, format_value(snapshot.sum));
  append_line(out, name, "_count", labels, count);
}

std::string render_labels(std::span<const std::string> names, std::span<const std::string> values) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  return out;
}

}  // namespace detail

std::string Registry::render() const {
  std::string out;
  const std::lock_guard lock(mutex_);
  for (const auto& family : families_) {
    family->render(out);
  }
  return out;
}

void Registry::validate(std::string_view name, std::span<const std::string> label_names,
                        MetricType type, std::span<const double> upper_bounds) {
  if (!is_metric_name(name)) {
    throw std::invalid_argument("invalid metric name \"" + std::string(name) + "\"");
  }
  std::set<std::string_view> seen;
  for (const auto& label : label_names) {
    if (!is_label_name(label) || (type == MetricType::kHistogram && label == "le")) {
      throw std::invalid_argument("invalid label name \"" + label + "\" for metric " +
                                  std::string(name));
    }
    if (!seen.insert(label).second) {
      throw std::invalid_argument("duplicate label name \"" + label + "\" for metric " +
                                  std::string(name));
    }
  }
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i]) || (i > 0 && upper_bounds[i] <= upper_bounds[i - 1])) {
      throw std::invalid_argument("histogram " + std::string(name) +
                                  " needs finite, strictly increasing bucket bounds");
    }
  }
}

void Registry::insert(std::unique_ptr<FamilyBase> family) {
  const std::lock_guard lock(mutex_);
  for (const auto& existing : families_) {
    if (existing->name() == family->name()) {
      throw std::invalid_argument("metric " + std::string(family->name()) + " is registered twice");
    }
  }
  families_.push_back(std::move(family));
}

}  // namespace cgmm::obs
