#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cgroup/fd.h"
#include "cgroup/fd_budget.h"
#include "cgroup/hierarchy.h"
#include "cgroup/leaf_dir.h"
#include "cgroup/leaf_files.h"
#include "cgroup/limit_files.h"
#include "cgroup/memory_stat.h"
#include "cgroup/result.h"
#include "core/leaf_sample.h"

namespace cgmm::cgroup {

struct LeafScanOptions {
  // Every this many scans the whole tree is listed again, a safety net under inotify. The first
  // scan is always a full walk.
  uint32_t full_walk_every = 360;
  // The most files kept open between scans: each leaf's memory.stat and usage file
  // (memory.usage_in_bytes, memory.current) and, on v2, each directory's memory.max and
  // memory.high (the parent's ancestors' too); the rest are read with open/read/close. A first
  // walk opens every leaf's memory.stat before any usage file, so a short budget goes to
  // memory.stat first. Unset: split_fd_limit(false).scanner, RLIMIT_NOFILE less kFdReserve.
  std::optional<size_t> fd_budget;
  // Watch directories with inotify; without it every directory is listed on every scan.
  bool watch = true;
  // Read each leaf's usage after its memory.stat (LeafSample::usage_bytes). Only the metrics
  // need it, and it costs a pread a leaf: a daemon nobody scrapes leaves it off.
  bool read_usage = true;
};

// What the scanner holds and has done, for benchmarks and diagnostics.
struct LeafScanCounters {
  uint64_t scans = 0;
  uint64_t full_walks = 0;
  uint64_t dirs_listed = 0;  // directory listings (getdents) over all scans
  size_t dirs = 0;           // directories in the tree, the parent included
  size_t kept_fds = 0;       // memory.stat, usage (and v2 memory.max, memory.high) files kept open
  size_t fd_budget = 0;
  size_t unwatched_dirs = 0;  // listed on every scan: inotify unavailable or out of watches
};

// Finds the leaf cgroups under a parent (directories with no child directory; the parent itself
// when it has none) and reads each one's memory.stat and then its usage. Never follows symlinks
// and never leaves the parent's filesystem. Leaves that vanish during the scan are left out.
//
// Between scans it keeps a tree of the directories, each watched with inotify (IN_CREATE,
// IN_DELETE and moves of subdirectories), and each leaf's memory.stat and usage file open: a scan
// with no change since the last costs two preads per leaf (and on v2 two more per directory for
// the limits). A kept memory.stat of a removed cgroup reads ENODEV;
// that leaf is dropped and its file closed, so no kept fd outlives its cgroup by more than a
// scan. A cgroup removed and created again under the same name is a new node with a new inode.
class LeafScanner {
 public:
  explicit LeafScanner(const Parent& parent, LeafScanOptions options = {});
  ~LeafScanner();
  LeafScanner(const LeafScanner&) = delete;
  LeafScanner& operator=(const LeafScanner&) = delete;

  // Replaces `out` with this scan's leaves, in a stable (directory) order.
  void scan(std::vector<core::LeafSample>& out);

  LeafScanCounters counters() const;
  // Opens a sample's directory by its name and inode, for writing its reclaim file; copies of it
  // stay valid after the scanner is gone.
  const LeafDir& leaf_dir() const { return leaf_dir_; }

 private:
  struct Node;
  using Limit = core::Limit;

  void drain_events();
  void resolve_child(Node& dir, const std::string& name);
  void reconcile(Node& node, int dir_fd, bool deep);
  std::unique_ptr<Node> make_child(Node& up, const std::string& name, int up_fd);
  void watch(Node& node, int dir_fd);
  void release(Node& node);
  void emit(Node& node, Limit limit, std::vector<core::LeafSample>& out, size_t& count);
  void sample(Node& node, Limit limit, std::vector<core::LeafSample>& out, size_t& count);
  IoResult<Fd> open_node_dir(const Node& node) const;
  IoResult<Fd> open_file(const Node& node, const char* file);
  // The same through `dir`, the node's directory: opened into it first when it is empty.
  IoResult<Fd> open_file(const Node& node, const char* file, std::optional<IoResult<Fd>>& dir);

  const Parent& parent_;
  LeafScanOptions options_;
  std::shared_ptr<const Fd> root_fd_;
  LeafDir leaf_dir_;
  std::unique_ptr<Node> root_;
  std::vector<LimitFiles> ancestor_limits_;  // v2: of the parent and its ancestors
  Fd inotify_;
  std::unordered_map<int, Node*> watched_;  // inotify watch descriptors
  FdBudget fds_;
  std::vector<Node*> dead_;  // leaves whose kept memory.stat said the cgroup is gone
  bool full_walk_due_ = true;
  bool walked_ = false;  // this scan began with a full walk
  LeafScanCounters counters_;
  std::string buf_;
};

}  // namespace cgmm::cgroup
