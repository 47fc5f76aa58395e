#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <variant>

#include "app/config.h"
#include "app/daemon.h"
#include "app/signals.h"
#include "cgroup/hierarchy.h"
#include "obs/events.h"

namespace {

constexpr int kExitFatal = 1;
constexpr int kExitUsage = 2;

// Force_empty can block for a long time on one cgroup; a few workers keep the others moving
// without letting reclaim take over the node's CPUs.
constexpr size_t kReclaimWorkers = 2;

// An error that ends the daemon, on stderr whatever the log level: with the JSON log format one
// line like every other event (`usage_error` or `fatal_error`), else plain text.
int exit_with(int code, const std::string& message, cgmm::obs::LogFormat format) {
  using namespace cgmm;
  if (format == obs::LogFormat::kJson) {
    obs::setup_logging(obs::Level::kError, format);
    if (code == kExitUsage) {
      obs::emit<obs::UsageError>(message, code);
    } else {
      obs::emit<obs::FatalError>(message, code);
    }
  } else if (code == kExitUsage) {
    std::fprintf(stderr,
                 "cgroup-memory-manager: %s\nRun 'cgroup-memory-manager --help' for usage.\n",
                 message.c_str());
  } else {
    std::fprintf(stderr, "cgroup-memory-manager: fatal: %s\n", message.c_str());
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cgmm;
  // Text until the configuration says otherwise.
  obs::LogFormat log_format = obs::LogFormat::kText;
  try {
    auto parsed = app::parse_config(argc, argv);
    if (const int* code = std::get_if<int>(&parsed)) {
      return *code;
    }
    const app::Config& config = std::get<app::Config>(parsed);
    log_format = config.log_format;
    obs::setup_logging(config.log_level, config.log_format);
    for (const std::string& w : config.warnings) {
      obs::emit<obs::ConfigWarning>(w);
    }

    auto opened = cgroup::open_parent(config.parent);
    if (auto* err = std::get_if<cgroup::ParentError>(&opened)) {
      return exit_with(kExitUsage, err->message, log_format);
    }
    // Before any thread starts, so that all of them have these blocked.
    app::SignalFd signals({SIGINT, SIGTERM, SIGHUP});
    core::SteadyClock clock;
    app::PollWaiter waiter;
    cgroup::Parent parent = std::move(std::get<cgroup::Parent>(opened));
    app::ReclaimPool pool(kReclaimWorkers, parent.version);
    app::Daemon daemon(config, std::move(parent), signals, clock, waiter, pool);
    return daemon.run();
  } catch (const app::UsageError& e) {
    return exit_with(kExitUsage, e.what(), e.log_format().value_or(log_format));
  } catch (const std::exception& e) {
    return exit_with(kExitFatal, e.what(), log_format);
  }
}
