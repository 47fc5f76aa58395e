#include "app/config.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "app/environment.h"

namespace cgmm::app {

namespace {

std::string in_quotes(const std::string& s) {
  return "\"" + s + "\"";
}

template <typename T>
T require(const core::Parsed<T>& parsed, const std::string& name) {
  if (!parsed) {
    throw UsageError("invalid " + name + ": " + parsed.error());
  }
  return *parsed;
}

std::string find_default_parent() {
  std::string tried;
  for (const std::string& candidate : default_parent_candidates()) {
    if (::access(candidate.c_str(), F_OK) == 0) {
      return candidate;
    }
    tried += (tried.empty() ? "" : ", ") + candidate;
  }
  throw UsageError("no --parent given and none of the default parents exists (tried " + tried +
                   "); give the parent cgroup of your containers with --parent PATH");
}

constexpr const char* kFooter = R"(
Every option can also be set with an environment variable CGMM_<OPTION> (CGMM_PARENT,
CGMM_THRESHOLD, CGMM_INTERVAL, CGMM_COOLDOWN, CGMM_ONCE, CGMM_DRY_RUN, CGMM_LOG_LEVEL,
CGMM_LOG_FORMAT, CGMM_LISTEN, CGMM_OUTPUT, CGMM_RECLAIM_TARGET, CGMM_EXCLUDE_SHMEM,
CGMM_NOTIFICATIONS, CGMM_POLICY, CGMM_POD_LOGS_DIR, CGMM_CONTAINER_LOGS_DIR); the command line wins. RUST_LOG is read as a log level when neither --log-level nor CGMM_LOG_LEVEL
is set.

Sizes: a plain number is bytes; KB/MB/GB (powers of 1000) and KiB/MiB/GiB (powers of 1024),
any case, decimals allowed: 512MiB, 1.5G, 100KB. Durations: a plain number is seconds;
500ms, 1.5s, 2m, 1h.

Examples:
  cgroup-memory-manager --parent /sys/fs/cgroup/memory/kubepods --threshold 25% --interval 10 --cooldown 30
  cgroup-memory-manager --threshold 512MiB --once --dry-run
  cgroup-memory-manager --listen :9102 --log-format json

Exit codes: 0 done, 1 fatal runtime error, 2 bad usage or configuration.)";

}  // namespace

const std::vector<std::string>& default_parent_candidates() {
  static const std::vector<std::string> kCandidates = {
      "/sys/fs/cgroup/memory/kubepods",
      "/sys/fs/cgroup/memory/kubepods.slice",
      "/sys/fs/cgroup/memory/docker",
      // cgroup v2 (unified) hosts
      "/sys/fs/cgroup/kubepods.slice",
      "/sys/fs/cgroup/kubepods",
  };
  return kCandidates;
}

std::variant<Config, int> parse_config(int argc, const char* const* argv) {
  CLI::App cli("Reclaims the page cache of container cgroups that go over a threshold.",
               "cgroup-memory-manager");
  cli.set_version_flag("--version", "cgroup-memory-manager " CGMM_VERSION);
  cli.footer(kFooter);
  cli.get_formatter()->column_width(34);

  std::string parent;
  std::string threshold = "25%";
  std::string interval = "10";
  std::string cooldown = "30";
  std::string log_level = "info";
  std::string log_format = "text";
  std::string listen;
  std::string output = "table";
  std::string reclaim_target;
  Config config;
  Environment env;

  env.add(cli.add_option("--parent", parent,
                         "Parent cgroup whose leaf cgroups are managed "
                         "[default: the first that exists of /sys/fs/cgroup/memory/{kubepods,"
                         "kubepods.slice,docker}, /sys/fs/cgroup/{kubepods.slice,kubepods}]")
              ->type_name("PATH"),
          "CGMM_PARENT", &parent);
  CLI::Option* threshold_opt = env.add(
      cli.add_option(
             "--threshold", threshold,
             "Cache above which a cgroup is reclaimed: N% of its effective memory limit "
             "(the smallest on its path; on cgroup v2 memory.high or memory.max), or a size")
          ->type_name("N%|SIZE")
          ->capture_default_str(),
      "CGMM_THRESHOLD", &threshold);
  CLI::Option* interval_opt =
      env.add(cli.add_option("--interval", interval, "How often all cgroups are checked")
                  ->type_name("DURATION")
                  ->capture_default_str(),
              "CGMM_INTERVAL", &interval);
  CLI::Option* cooldown_opt = env.add(
      cli.add_option("--cooldown", cooldown, "Least time between two reclaims of one cgroup")
          ->type_name("DURATION")
          ->capture_default_str(),
      "CGMM_COOLDOWN", &cooldown);
  env.add(cli.add_flag("--once", config.once, "Run one scan, act on it, print what was done, exit"),
          "CGMM_ONCE", &config.once);
  env.add(
      cli.add_flag("--exclude-shmem", config.policy.exclude_shmem,
                   "Count only reclaimable cache (cache minus shmem/tmpfs) against the threshold"),
      "CGMM_EXCLUDE_SHMEM", &config.policy.exclude_shmem);
  env.add(cli.add_flag("--refault-backoff,!--no-refault-backoff", config.policy.refault_backoff,
                       "Back off from a cgroup that reads back at least half of what a reclaim "
                       "freed within one cooldown (hot cache), as from a futile reclaim: 2, 4, 8, "
                       "then at most 16 cooldowns [default: on]"),
          "CGMM_REFAULT_BACKOFF", &config.policy.refault_backoff);
  env.add(cli.add_flag("--dry-run", config.dry_run,
                       "Decide and log, but never write to a control file"),
          "CGMM_DRY_RUN", &config.dry_run);
  CLI::Option* level_opt =
      env.add(cli.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
                  ->type_name("LEVEL")
                  ->capture_default_str(),
              "CGMM_LOG_LEVEL", &log_level);
  CLI::Option* format_opt =
      env.add(cli.add_option("--log-format", log_format,
                             "text, or json for log pipelines (one object a line)")
                  ->type_name("FORMAT")
                  ->capture_default_str(),
              "CGMM_LOG_FORMAT", &log_format);
  env.add(
      cli.add_flag("--notifications,!--no-notifications", config.notifications,
                   "Check a cgroup as soon as its memory usage crosses its threshold: kernel "
                   "notifications on cgroup v1, memory.current read at a pace set by the distance "
                   "to the threshold on cgroup v2; the periodic scan stays as a safety net "
                   "[default: on]"),
      "CGMM_NOTIFICATIONS", &config.notifications);
  CLI::Option* listen_opt = env.add(
      cli.add_option(
             "--listen", listen,
             "Serve /metrics and /healthz here: :PORT, IPV4:PORT or [IPV6]:PORT [default: off]")
          ->type_name("ADDRESS"),
      "CGMM_LISTEN", &listen);
  CLI::Option* output_opt =
      env.add(cli.add_option("--output", output, "Report format of --once: table or json")
                  ->type_name("FORMAT")
                  ->capture_default_str(),
              "CGMM_OUTPUT", &output);
  CLI::Option* target_opt = env.add(
      cli.add_option("--reclaim-target", reclaim_target,
                     "cgroup v2: reclaim only down to this level (N% of the limit or a size, below "
                     "the threshold) [default: all page cache]")
          ->type_name("N%|SIZE"),
      "CGMM_RECLAIM_TARGET", &reclaim_target);

  env.add(cli.add_option("--policy", config.policy_file,
                         "YAML file of per-workload rules (threshold, cooldown, ... by namespace, "
                         "pod, container, QoS class or cgroup), read again when it changes and on "
                         "SIGHUP [default: none]")
              ->type_name("FILE"),
          "CGMM_POLICY", &config.policy_file);
  env.add(cli.add_option("--pod-logs-dir", config.pod_logs_dir,
                         "The kubelet's pod log tree, read to name pods by namespace and name")
              ->type_name("DIR")
              ->capture_default_str(),
          "CGMM_POD_LOGS_DIR", &config.pod_logs_dir);
  env.add(cli.add_option("--container-logs-dir", config.container_logs_dir,
                         "The kubelet's container log links, read to name containers")
              ->type_name("DIR")
              ->capture_default_str(),
          "CGMM_CONTAINER_LOGS_DIR", &config.container_logs_dir);

  // Usage errors carry the log format asked for, when that can be read (README, "Logs").
  auto requested_format = [&] { return obs::parse_format(env.text(format_opt)); };
  try {
    cli.parse(argc, argv);
    env.apply();

    config.policy.threshold = require(core::parse_threshold(threshold), env.name(threshold_opt));
    config.interval = require(core::parse_duration(interval), env.name(interval_opt));
    if (config.interval.count() == 0) {
      throw UsageError("invalid " + env.name(interval_opt) + ": " + in_quotes(interval) +
                       " must be greater than 0");
    }
    config.policy.cooldown = require(core::parse_duration(cooldown), env.name(cooldown_opt));

    if (!env.given(level_opt)) {
      if (const char* rust_log = std::getenv("RUST_LOG"); rust_log && *rust_log) {
        if (auto level = obs::parse_level(rust_log)) {
          log_level = rust_log;
        } else {
          config.warnings.push_back(
              "ignoring RUST_LOG=" + in_quotes(rust_log) +
              ": not a plain log level (trace, debug, info, warn, error, off)");
        }
      }
    }
    auto level = obs::parse_level(log_level);
    if (!level) {
      throw UsageError("invalid " + env.name(level_opt) + ": " + in_quotes(log_level) +
                       " is not one of trace, debug, info, warn, error, off");
    }
    config.log_level = *level;
    auto format = obs::parse_format(log_format);
    if (!format) {
      throw UsageError("invalid " + env.name(format_opt) + ": " + in_quotes(log_format) +
                       " is not text or json");
    }
    config.log_format = *format;
    if (!listen.empty()) {
      try {
        config.listen = obs::parse_listen_address(listen);
      } catch (const std::invalid_argument& e) {
        throw UsageError("invalid " + env.name(listen_opt) + ": " + e.what());
      }
    }
    if (output == "table") {
      config.output = Config::Output::kTable;
    } else if (output == "json") {
      config.output = Config::Output::kJson;
    } else {
      throw UsageError("invalid " + env.name(output_opt) + ": " + in_quotes(output) +
                       " is not table or json");
    }
    if (!reclaim_target.empty()) {
      const std::string name = env.name(target_opt);
      config.policy.reclaim_target = require(core::parse_threshold(reclaim_target), name);
      const core::Threshold& t = config.policy.threshold;
      const core::Threshold& r = *config.policy.reclaim_target;
      if (!core::target_below_threshold(r, t)) {
        throw UsageError("invalid " + name + ": " + in_quotes(reclaim_target) +
                         " must be lower than the threshold " + t.to_string());
      }
    }
    config.parent = parent.empty() ? find_default_parent() : parent;
  } catch (const CLI::CallForHelp& e) {
    env.show_in_help();
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what(), requested_format());
  } catch (UsageError& e) {
    e.set_log_format(requested_format());
    throw;
  }
  return config;
}

}  // namespace cgmm::app
