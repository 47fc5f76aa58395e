#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/units.h"
#include "obs/daemon_metrics.h"
#include "obs/http_server.h"
#include "obs/listen_address.h"
#include "obs/metrics.h"

namespace cgmm::app {

// Metrics and health, served over HTTP when --listen is given. Without a listener every call is
// a no-op, so a daemon nobody scrapes pays nothing for per-leaf series.
class Telemetry {
 public:
  Telemetry(const std::optional<obs::ListenAddress>& listen, core::Duration interval);

  bool enabled() const { return metrics_ != nullptr; }
  obs::DaemonMetrics* metrics() { return metrics_.get(); }

  // Starts the listener thread. Throws std::system_error when the address cannot be bound.
  void start();
  void stop();

  // A scan finished now; /healthz is healthy while the last one finished within three intervals.
  void scan_finished();

 private:
  obs::HttpResponse health() const;

  core::Duration interval_;
  std::unique_ptr<obs::Registry> registry_;
  std::unique_ptr<obs::DaemonMetrics> metrics_;
  std::unique_ptr<obs::HttpServer> server_;
  // Steady-clock nanoseconds of the last finished scan; 0 before the first.
  std::atomic<int64_t> last_scan_ns_{0};
};

}  // namespace cgmm::app
