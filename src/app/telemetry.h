#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/units.h"
#include "obs/http_server.h"
#include "obs/listen_address.h"
#include "obs/metrics.h"

namespace cgmm::app {

// The labels of a leaf's series: its cgroup, and what the kubelet's layout says about it.
obs::LeafLabels leaf_labels(std::string_view cgroup);

// The process's steady clock, for callers that inject none.
const core::Clock& steady_clock();

// Metrics and health, served over HTTP when --listen is given. Without a listener every call is
// a no-op, so a daemon nobody scrapes pays nothing for per-leaf series.
class Telemetry {
 public:
  // `clock` times the scans for /healthz and must outlive the Telemetry.
  Telemetry(const std::optional<obs::ListenAddress>& listen, core::Duration interval,
            const core::Clock& clock = steady_clock());

  bool enabled() const { return metrics_ != nullptr; }
  obs::Metrics* metrics() { return metrics_.get(); }

  // Starts the listener thread. Throws std::system_error when the address cannot be bound.
  void start();
  void stop();

  // A scan finished now; /healthz is healthy while the last one finished within three intervals.
  void scan_finished();

  // What /healthz answers now: 503 before the first scan finished and when the last one
  // finished more than three intervals ago, else 200.
  obs::HttpResponse health() const;

 private:
  core::Duration interval_;
  const core::Clock& clock_;
  std::unique_ptr<obs::Metrics> metrics_;
  std::unique_ptr<obs::HttpServer> server_;
  // clock_'s nanoseconds at the last finished scan; kNoScan before the first.
  static constexpr int64_t kNoScan = std::numeric_limits<int64_t>::min();
  std::atomic<int64_t> last_scan_ns_{kNoScan};
};

}  // namespace cgmm::app
