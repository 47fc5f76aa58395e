#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cgmm::testing {

inline constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";

// Why a Prometheus server cannot run here (Debian's `prometheus` package missing), or empty.
std::string prometheus_unavailable_reason();

// Skips the test with the reason, or fails it when the CI environment variable is set.
#define CGMM_REQUIRE_PROMETHEUS()                                                           \
  do {                                                                                      \
    if (std::string why = ::cgmm::testing::prometheus_unavailable_reason(); !why.empty()) { \
      if (std::getenv("CI")) {                                                              \
        FAIL() << "Prometheus test cannot run in CI: " << why;                              \
      }                                                                                     \
      GTEST_SKIP() << why;                                                                  \
    }                                                                                       \
  } while (0)

// One element of an instant vector returned by /api/v1/query.
struct PromSample {
  std::map<std::string, std::string> labels;  // with __name__ when the result keeps it
  double value = 0;
};

// A real Prometheus server (kPrometheusBinary) on 127.0.0.1 at a free port, with its own config
// and TSDB in a fresh temp dir, scraping `targets` ("127.0.0.1:PORT") as job `job` every second.
// The constructor returns once /-/ready answers 200 and throws (with the server's log) if it does
// not within 30 s. The destructor stops it by pid (SIGTERM, SIGKILL after 10 s) and removes the
// temp dir.
class PrometheusServer {
 public:
  PrometheusServer(const std::string& job, const std::vector<std::string>& targets);
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  std::uint16_t port() const { return port_; }

  // The result of an instant PromQL query at the current time; empty when the query failed or
  // matched nothing.
  std::vector<PromSample> query(const std::string& promql) const;

  // What the server wrote to stdout and stderr so far.
  std::string log() const;

 private:
  void stop();

  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace cgmm::testing
