#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "core/decide.h"
#include "core/units.h"
#include "obs/listen_address.h"
#include "obs/log.h"

namespace cgmm::app {

// The daemon's validated configuration, from the command line and CGMM_* environment variables.
struct Config {
  std::string parent;
  core::Policy policy;
  core::Duration interval = std::chrono::seconds(10);
  bool once = false;
  bool dry_run = false;
  obs::Level log_level = obs::Level::kInfo;
  obs::LogFormat log_format = obs::LogFormat::kText;
  // Where /metrics and /healthz are served; none by default.
  std::optional<obs::ListenAddress> listen;
  // How --once prints its report.
  enum class Output { kTable, kJson } output = Output::kTable;
  // Check a leaf the moment its usage crosses its level (kernel thresholds on v1, paced
  // memory.current reads on v2), besides the periodic scan.
  bool notifications = true;
  // The kubelet's log trees, read (never written) to name containers by namespace, pod and
  // container.
  std::string pod_logs_dir = "/var/log/pods";
  std::string container_logs_dir = "/var/log/containers";
  // A YAML file of per-workload rules (README, "Policy"); empty for none.
  std::string policy_file;
  // Things worth a warning that could only be logged once logging is set up.
  std::vector<std::string> warnings;
};

// Bad usage or configuration: the message names the bad value. Exit code 2.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& message,
                      std::optional<obs::LogFormat> format = std::nullopt)
      : std::runtime_error(message), log_format_(format) {}

  // The log format the user asked for, as far as it could be read when the error was found; none
  // when the error came before any log format was known or the log format itself is bad.
  std::optional<obs::LogFormat> log_format() const { return log_format_; }
  void set_log_format(std::optional<obs::LogFormat> format) { log_format_ = format; }

 private:
  std::optional<obs::LogFormat> log_format_;
};

// Where --parent is looked for when it is not given, in order.
const std::vector<std::string>& default_parent_candidates();

// A Config, or an exit code when the command line asked for --help or --version (already
// printed). Throws UsageError, carrying the log format asked for when it could be read.
std::variant<Config, int> parse_config(int argc, const char* const* argv);

}  // namespace cgmm::app
