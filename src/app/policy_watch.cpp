#include "app/policy_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "app/config.h"
#include "app/policy_file.h"
#include "obs/events.h"

namespace cgmm::app {

namespace {

// A ConfigMap volume's files are symlinks through this one, which the kubelet swaps atomically.
constexpr std::string_view kConfigMapData = "..data";

// Writes that complete a file: a write closed, or a file renamed (or a symlink swapped) into
// place. A file being created or truncated is not read yet: it would be read half-written.
constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR;

}  // namespace

PolicyWatch::PolicyWatch(std::string path, const core::Policy& defaults, cgroup::Version version,
                         obs::Metrics* metrics, const core::Clock& clock)
    : path_(std::move(path)),
      defaults_(defaults),
      version_(version),
      metrics_(metrics),
      clock_(clock) {
  const size_t slash = path_.rfind('/');
  dir_ = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  base_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  try {
    rules_ = std::make_shared<const core::Rules>(load());
  } catch (const PolicyError& e) {
    throw UsageError(e.what());
  }
  loaded(true);
  obs::emit<obs::PolicyLoaded>(path_, *rules_, false);
  inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify_ || ::inotify_add_watch(inotify_.get(), dir_.c_str(), kEvents) < 0) {
    obs::emit<obs::PolicyUnwatched>(dir_, std::strerror(errno));
    inotify_.reset();
  }
}

core::Rules PolicyWatch::load() const {
  core::Rules rules = load_policy(path_, defaults_);
  if (version_ == cgroup::Version::kV1) {
    for (const auto& rule : rules.all()) {
      if (rule->policy.reclaim_target) {
        throw PolicyError("policy " + path_ + ":" + std::to_string(rule->line) +
                          ": reclaim-target needs cgroup v2 (memory.reclaim); on cgroup v1 "
                          "memory.force_empty always reclaims all it can");
      }
    }
  }
  return rules;
}

void PolicyWatch::loaded(bool ok) {
  if (metrics_) {
    metrics_->record_policy_load(ok, clock_.wall_now());
  }
}

void PolicyWatch::reload() {
  try {
    auto rules = std::make_shared<const core::Rules>(load());
    rules_ = std::move(rules);
    ++generation_;
    loaded(true);
    obs::emit<obs::PolicyLoaded>(path_, *rules_, true);
  } catch (const PolicyError& e) {
    loaded(false);
    obs::emit<obs::PolicyReloadFailed>(path_, e.what(), rules_->size());
  }
}

void PolicyWatch::run(core::TimePoint /*now*/, bool ready) {
  if (!ready) {
    return;
  }
  alignas(inotify_event) std::array<char, 4096> buf;
  bool changed = false;
  for (;;) {
    const ssize_t n = ::read(inotify_.get(), buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf.data() + off);
      const std::string_view name = e->len > 0 ? std::string_view(e->name) : std::string_view();
      changed |= (e->mask & IN_Q_OVERFLOW) != 0 || name == base_ || name == kConfigMapData;
      off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
    }
  }
  if (changed) {
    reload();
  }
}

}  // namespace cgmm::app
