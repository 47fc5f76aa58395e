#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// A small metric registry rendering the Prometheus text exposition format 0.0.4. All metric
// operations and render() are safe to call from any thread.

namespace cgmm::obs {

enum class MetricType { kCounter, kGauge, kHistogram };

// The sample value as Prometheus parses it: shortest round-trip decimal, NaN, +Inf, -Inf.
std::string format_value(double value);
// Escapes `\`, `"` and newline, as label values require.
std::string escape_label_value(std::string_view value);
// Escapes `\` and newline, as HELP text requires.
std::string escape_help(std::string_view help);

class Counter {
 public:
  // Counters only go up: a negative or NaN amount is ignored.
  void inc(double amount = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double amount = 1.0);
  void dec(double amount = 1.0) { inc(-amount); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  struct Snapshot {
    std::vector<std::uint64_t> cumulative_counts;  // one per upper bound, +Inf excluded
    std::uint64_t count = 0;
    double sum = 0.0;
  };

  // `upper_bounds` must outlive the histogram; the owning family keeps them.
  explicit Histogram(std::span<const double> upper_bounds);
  // A NaN observation is ignored.
  void observe(double value);
  Snapshot snapshot() const;

 private:
  std::span<const double> upper_bounds_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> bucket_counts_;
  std::uint64_t count_ = 0;
  double sum_ = 0.0;
};

namespace detail {

void render_header(std::string& out, std::string_view name, std::string_view help, MetricType type);
// `labels` is the rendered `a="x",b="y"` text, empty without labels.
void render_sample(std::string& out, std::string_view name, std::string_view labels,
                   const Counter& counter);
void render_sample(std::string& out, std::string_view name, std::string_view labels,
                   const Gauge& gauge);
void render_sample(std::string& out, std::string_view name, std::string_view labels,
                   const Histogram& histogram, std::span<const double> upper_bounds);
std::string render_labels(std::span<const std::string> names, std::span<const std::string> values);

template <class Metric>
constexpr MetricType kTypeOf = std::same_as<Metric, Counter> ? MetricType::kCounter
                               : std::same_as<Metric, Gauge> ? MetricType::kGauge
                                                             : MetricType::kHistogram;

}  // namespace detail

class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  virtual void render(std::string& out) const = 0;
  virtual std::string_view name() const = 0;
};

// All series of one metric name, one per combination of its N label values.
template <class Metric, std::size_t N>
class Family final : public FamilyBase {
 public:
  using LabelValues = std::array<std::string, N>;

  Family(std::string name, std::string help, std::array<std::string, N> label_names,
         std::vector<double> upper_bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        upper_bounds_(std::move(upper_bounds)) {}

  // The series with these label values, created at zero on first use. The reference stays valid
  // until that series is removed; a family whose series another thread removes wants update().
  template <class... Values>
  requires(sizeof...(Values) == N && (std::convertible_to<Values, std::string_view> &&
                                      ...)) Metric& with(const Values&... values) {
    return series(LabelValues{std::string(std::string_view(values))...});
  }

  Metric& series(const LabelValues& values) {
    const std::lock_guard lock(mutex_);
    auto it = series_.find(values);
    if (it == series_.end()) {
      it = series_.emplace(values, make_metric()).first;
    }
    return *it->second;
  }

  // Runs `update(metric)` on the series under the family's lock, so it cannot race a remove()
  // on another thread; use it where series come and go.
  template <class Update>
  void update(const LabelValues& values, Update&& update) {
    const std::lock_guard lock(mutex_);
    auto it = series_.find(values);
    if (it == series_.end()) {
      it = series_.emplace(values, make_metric()).first;
    }
    std::forward<Update>(update)(*it->second);
  }

  void remove(const LabelValues& values) {
    const std::lock_guard lock(mutex_);
    series_.erase(values);
  }

  // Removes every series whose label values match; returns how many went.
  std::size_t remove_if(const std::function<bool(const LabelValues&)>& predicate) {
    const std::lock_guard lock(mutex_);
    return std::erase_if(series_, [&](const auto& entry) { return predicate(entry.first); });
  }

  std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return series_.size();
  }

  std::string_view name() const override { return name_; }

  // A family without series renders nothing, not even its HELP and TYPE lines.
  void render(std::string& out) const override {
    const std::lock_guard lock(mutex_);
    if (series_.empty()) {
      return;
    }
    detail::render_header(out, name_, help_, detail::kTypeOf<Metric>);
    for (const auto& [values, metric] : series_) {
      const auto labels = detail::render_labels(label_names_, values);
      if constexpr (std::same_as<Metric, Histogram>) {
        detail::render_sample(out, name_, labels, *metric, upper_bounds_);
      } else {
        detail::render_sample(out, name_, labels, *metric);
      }
    }
  }

 private:
  std::unique_ptr<Metric> make_metric() const {
    if constexpr (std::same_as<Metric, Histogram>) {
      return std::make_unique<Histogram>(upper_bounds_);
    } else {
      return std::make_unique<Metric>();
    }
  }

  const std::string name_;
  const std::string help_;
  const std::array<std::string, N> label_names_;
  const std::vector<double> upper_bounds_;
  mutable std::mutex mutex_;
  std::map<LabelValues, std::unique_ptr<Metric>> series_;
};

template <std::size_t N>
using CounterFamily = Family<Counter, N>;
template <std::size_t N>
using GaugeFamily = Family<Gauge, N>;
template <std::size_t N>
using HistogramFamily = Family<Histogram, N>;

// Owns the families; render() emits them in registration order. Registration validates names
// and throws std::invalid_argument on a bad or duplicate name, so it belongs to start-up.
// Families live as long as the registry.
class Registry {
 public:
  Counter& counter(std::string name, std::string help) {
    return add<Counter, 0>(std::move(name), std::move(help), {}, {}).with();
  }
  Gauge& gauge(std::string name, std::string help) {
    return add<Gauge, 0>(std::move(name), std::move(help), {}, {}).with();
  }
  // `upper_bounds` must be strictly increasing and finite; +Inf is implied.
  Histogram& histogram(std::string name, std::string help, std::vector<double> upper_bounds) {
    return add<Histogram, 0>(std::move(name), std::move(help), {}, std::move(upper_bounds)).with();
  }

  // The label names deduce N: counter_family("x_total", "...", {"result"}) is a CounterFamily<1>.
  // Only an array reference lets a braced list deduce N, hence the C arrays below.
  template <std::size_t N>
  CounterFamily<N>& counter_family(
      std::string name, std::string help,
      const std::string_view (&label_names)[N]) {  // NOLINT(modernize-avoid-c-arrays)
    return add<Counter, N>(std::move(name), std::move(help), to_array(label_names), {});
  }
  template <std::size_t N>
  GaugeFamily<N>& gauge_family(
      std::string name, std::string help,
      const std::string_view (&label_names)[N]) {  // NOLINT(modernize-avoid-c-arrays)
    return add<Gauge, N>(std::move(name), std::move(help), to_array(label_names), {});
  }
  template <std::size_t N>
  HistogramFamily<N>& histogram_family(
      std::string name, std::string help,
      const std::string_view (&label_names)[N],  // NOLINT(modernize-avoid-c-arrays)
      std::vector<double> upper_bounds) {
    return add<Histogram, N>(std::move(name), std::move(help), to_array(label_names),
                             std::move(upper_bounds));
  }

  // Adds a family of another kind (its metric names are the caller's to get right).
  template <class F>
  F& add_family(std::unique_ptr<F> family) {
    auto& result = *family;
    insert(std::move(family));
    return result;
  }

  // The whole exposition, ready to serve as text/plain; version=0.0.4.
  std::string render() const;

 private:
  template <class Metric, std::size_t N>
  Family<Metric, N>& add(std::string name, std::string help, std::array<std::string, N> labels,
                         std::vector<double> upper_bounds) {
    validate(name, labels, detail::kTypeOf<Metric>, upper_bounds);
    auto family = std::make_unique<Family<Metric, N>>(std::move(name), std::move(help),
                                                      std::move(labels), std::move(upper_bounds));
    auto& result = *family;
    insert(std::move(family));
    return result;
  }

  template <std::size_t N>
  static std::array<std::string, N> to_array(
      const std::string_view (&names)[N]) {  // NOLINT(modernize-avoid-c-arrays)
    std::array<std::string, N> result;
    for (std::size_t i = 0; i < N; ++i) {
      result[i] = std::string(names[i]);
    }
    return result;
  }

  static void validate(std::string_view name, std::span<const std::string> label_names,
                       MetricType type, std::span<const double> upper_bounds);
  void insert(std::unique_ptr<FamilyBase> family);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

// The Content-Type of Registry::render()'s text.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace cgmm::obs
