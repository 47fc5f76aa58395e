#pragma once

#include <memory>
#include <string>

#include "app/loop.h"
#include "cgroup/fd.h"
#include "cgroup/hierarchy.h"
#include "core/clock.h"
#include "core/decide.h"
#include "core/rules.h"
#include "obs/metrics.h"

namespace cgmm::app {

// The policy file (--policy), kept in force. Read at start, where a bad file ends the daemon;
// read again when it changes and on SIGHUP, where a bad file is logged and the last good rules
// stay. The watch is on the file's directory, for the file's own name and for `..data`: a
// Kubernetes ConfigMap volume updates its files by swapping that symlink, never by writing them.
// Cooldowns, backoff and reclaims in flight belong to the leaves, not to the rules, so a reload
// keeps them; the next decision of each leaf uses the new rules.
class PolicyWatch final : public Part {
 public:
  // `metrics` may be null; `clock` stamps the reads on it. Throws UsageError (exit 2) when the
  // file cannot be read or is bad, naming the file and line; `version` rules out reclaim-target
  // on cgroup v1 as the option does.
  PolicyWatch(std::string path, const core::Policy& defaults, cgroup::Version version,
              obs::Metrics* metrics, const core::Clock& clock);

  // The rules in force; valid until the next reload.
  const core::Rules* rules() const { return rules_.get(); }
  const std::string& path() const { return path_; }
  // Changes with every reload that succeeded.
  uint64_t generation() const { return generation_; }

  // Reads the file again: the new rules, or the old ones and an error in the log.
  void reload();

  int fd() const override { return inotify_.get(); }
  void run(core::TimePoint now, bool ready) override;

 private:
  // The rules of the file, checked against the hierarchy; throws app::PolicyError.
  core::Rules load() const;
  void loaded(bool ok);

  const std::string path_;
  const core::Policy defaults_;
  const cgroup::Version version_;
  obs::Metrics* metrics_;
  const core::Clock& clock_;
  std::string dir_;   // the file's directory, watched
  std::string base_;  // the file's name in it
  cgroup::Fd inotify_;
  std::shared_ptr<const core::Rules> rules_;
  uint64_t generation_ = 0;
};

}  // namespace cgmm::app
