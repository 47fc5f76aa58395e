#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/loop.h"
#include "cgroup/fd.h"
#include "core/clock.h"
#include "core/leaf_sample.h"
#include "k8s/kubelet_names.h"
#include "k8s/pod_identity.h"

namespace cgmm::app {

// The kubelet's log trees on this node (k8s/kubelet_names.h), listed into a NameTable at start and
// followed with one inotify watch on each directory: a loop part whose run() applies what was
// created, removed or moved in or out since. A directory that cannot be watched or listed at start
// is left out for the whole run (unavailable() says why); one removed or moved away later is
// forgotten with its names and not watched again. After an inotify queue overflow both are listed
// again, and lookups get new Workloads.
class KubeletNames final : public Part {
 public:
  // `pods_dir`: /var/log/pods; `containers_dir`: /var/log/containers (on the host, or where a
  // container mounts them). Neither is a cgroup directory: they are opened by path, following
  // symlinks.
  KubeletNames(std::string pods_dir, std::string containers_dir);

  // One message for each directory left out at start, for the daemon to log once, e.g. "pod names
  // are not available: /var/log/pods: No such file or directory; leaves are named by their cgroup
  // path".
  const std::vector<std::string>& unavailable() const { return unavailable_; }

  // The workload of a leaf (NameTable::find). A runtime cgroup (conmon's) is named by its
  // pod alone: it is not its container.
  std::shared_ptr<const core::Workload> find(const k8s::PodIdentity& identity) const;

  const k8s::NameTable& table() const { return table_; }

  // Changes whenever the names may have changed: a caller that resolved leaves at one value need
  // not resolve them again while it holds.
  uint64_t generation() const { return generation_; }

  // The inotify descriptor; -1 once neither directory is watched.
  int fd() const override;
  void run(core::TimePoint now, bool ready) override;

 private:
  enum class Kind : uint8_t { kPods, kContainers };
  struct Tree {
    std::string path;
    Kind kind;
    int wd = -1;
  };

  void start(Tree& tree, int inotify_errno);
  // Adds every entry of the directory to the table; 0, or the errno of what failed.
  int list(const Tree& tree);
  void relist();
  void unwatch(Tree& tree);
  void apply(Tree& tree, uint32_t mask, std::string_view name);
  Tree* tree_of(int wd);

  cgroup::Fd inotify_;
  std::array<Tree, 2> trees_;
  k8s::NameTable table_;
  std::vector<std::string> unavailable_;
  uint64_t generation_ = 0;
};

}  // namespace cgmm::app
