#include "app/telemetry.h"

#include "k8s/pod_identity.h"

namespace cgmm::app {

namespace {

int64_t to_ns(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

obs::LeafLabels leaf_labels(std::string_view cgroup) {
  obs::LeafLabels labels{std::string(cgroup), {}, {}, {}};
  if (auto id = k8s::parse_pod_identity(cgroup)) {
    labels.pod_uid = std::move(id->pod_uid);
    labels.container_id = std::move(id->container_id);
    labels.qos = std::string(k8s::to_string(id->qos));
  }
  return labels;
}

const core::Clock& steady_clock() {
  static const core::SteadyClock kClock;
  return kClock;
}

Telemetry::Telemetry(const std::optional<obs::ListenAddress>& listen, core::Duration interval,
                     const core::Clock& clock)
    : interval_(interval), clock_(clock) {
  if (!listen) {
    return;
  }
  metrics_ = std::make_unique<obs::Metrics>(CGMM_VERSION, leaf_labels, interval);
  obs::HttpServerOptions options;
  options.address = *listen;
  server_ = std::make_unique<obs::HttpServer>(options);
  server_->handle("/metrics", [this] {
    return obs::HttpResponse{200, std::string(obs::kExpositionContentType), metrics_->render()};
  });
  server_->handle("/healthz", [this] { return health(); });
}

void Telemetry::start() {
  if (server_) {
    server_->start();
  }
}

void Telemetry::stop() {
  if (server_) {
    server_->stop();
  }
}

void Telemetry::scan_finished() {
  last_scan_ns_.store(to_ns(clock_.now()), std::memory_order_relaxed);
}

obs::HttpResponse Telemetry::health() const {
  const int64_t last = last_scan_ns_.load(std::memory_order_relaxed);
  if (last == kNoScan) {
    return {503, "text/plain; charset=utf-8", "starting: no scan has finished yet\n"};
  }
  const auto age = std::chrono::nanoseconds(to_ns(clock_.now()) - last);
  if (age > 3 * interval_) {
    return {503, "text/plain; charset=utf-8",
            "unhealthy: last scan finished " +
                core::format_duration(std::chrono::duration_cast<core::Duration>(age)) +
                " ago, more than three intervals\n"};
  }
  return {200, "text/plain; charset=utf-8", "ok\n"};
}

}  // namespace cgmm::app
