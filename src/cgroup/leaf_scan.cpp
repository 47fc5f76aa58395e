#include "cgroup/leaf_scan.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>

#include "cgroup/files.h"
#include "cgroup/io.h"
#include "cgroup/leaf_files.h"

namespace cgmm::cgroup {

// One directory of the tree. The scanner's own state; samples share only its name.
struct LeafScanner::Node {
  std::string path;  // the cgroup's name, "<parent name>/<path below it>"; the parent's own name
  uint64_t inode = 0;
  Node* up = nullptr;
  int wd = -1;        // inotify watch, or -1: listed on every scan
  Fd stat;            // memory.stat, kept while this is a leaf and the fd budget allows
  UsageFile usage;    // memory.usage_in_bytes (v1) or memory.current (v2), likewise
  LimitFiles limits;  // v2: memory.max and memory.high
  size_t base = 0;    // where the last path component starts in `path` (its size for the parent)
  int depth = 0;
  std::vector<std::unique_ptr<Node>> children;

  // The path component; empty for the parent.
  std::string_view name() const { return std::string_view(path).substr(base); }
};

namespace {

// cgroup v1 and v2 both cap nesting far below this; deeper trees are not walked further.
constexpr int kMaxDepth = 32;

// Subdirectories appearing, disappearing or being renamed; and the directory itself going away.
constexpr uint32_t kWatchMask =
    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR;

}  // namespace

LeafScanner::LeafScanner(const Parent& parent, LeafScanOptions options)
    : parent_(parent),
      options_(options),
      fds_(options.fd_budget ? *options.fd_budget : split_fd_limit(false).scanner) {
  reserve_fd_table(parent_.fd.get(), fds_.limit());
  auto root = open_dir_at(parent_.fd.get(), ".");
  root_fd_ = std::make_shared<const Fd>(root ? std::move(*root) : Fd());
  leaf_dir_ = LeafDir(root_fd_, parent_.name.size());
  if (options_.watch) {
    inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  }
  if (parent_.version == Version::kV2) {
    ancestor_limits_.resize(parent_.limit_ancestors.size());
  }
}

LeafScanner::~LeafScanner() = default;

LeafScanCounters LeafScanner::counters() const {
  LeafScanCounters c = counters_;
  c.kept_fds = fds_.kept();
  c.fd_budget = fds_.limit();
  c.unwatched_dirs = c.dirs - watched_.size();
  return c;
}

void LeafScanner::scan(std::vector<core::LeafSample>& out) {
  ++counters_.scans;
  if (!root_) {
    struct stat st {};
    if (!*root_fd_ || ::fstat(root_fd_->get(), &st) != 0) {
      out.clear();
      return;
    }
    root_ = std::make_unique<Node>();
    root_->path = parent_.name;
    root_->base = root_->path.size();
    root_->inode = st.st_ino;
    ++counters_.dirs;
  }
  drain_events();
  if (options_.full_walk_every > 0 && (counters_.scans - 1) % options_.full_walk_every == 0) {
    full_walk_due_ = true;
  }
  walked_ = full_walk_due_;
  if (full_walk_due_) {
    full_walk_due_ = false;
    ++counters_.full_walks;
    if (auto dir = open_dir_at(root_fd_->get(), ".")) {
      reconcile(*root_, dir->get(), true);
    }
  }

  Limit limit;
  for (size_t i = 0; i < ancestor_limits_.size(); ++i) {
    const int dir_fd = parent_.limit_ancestors[i].get();
    const auto open = [this, dir_fd](const char* file) { return fds_.open_file_at(dir_fd, file); };
    limit = core::tighter(limit, ancestor_limits_[i].read(fds_, open, buf_));
  }
  size_t count = 0;
  emit(*root_, limit, out, count);
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(count), out.end());

  for (Node* node : dead_) {
    Node* up = node->up;
    if (up == nullptr) {
      continue;  // the parent itself is gone: its leaves read as vanished
    }
    auto it = std::find_if(up->children.begin(), up->children.end(),
                           [&](const std::unique_ptr<Node>& c) { return c.get() == node; });
    if (it != up->children.end()) {
      release(**it);
      up->children.erase(it);
    }
  }
  dead_.clear();
}

void LeafScanner::drain_events() {
  if (!inotify_) {
    return;
  }
  std::vector<std::pair<int, std::string>> pending;  // watch and child name
  alignas(struct inotify_event) std::array<char, 16384> buf;
  for (;;) {
    ssize_t n = ::read(inotify_.get(), buf.data(), buf.size());
    if (n <= 0) {
      break;  // EAGAIN: nothing more queued
    }
    for (ssize_t off = 0; off < n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(buf.data() + off);
      off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        full_walk_due_ = true;  // events were lost
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        // The watch is gone (its directory was removed): list it on every scan until its
        // parent's event removes it.
        if (auto it = watched_.find(ev->wd); it != watched_.end()) {
          it->second->wd = -1;
          watched_.erase(it);
        }
        continue;
      }
      if ((ev->mask & IN_ISDIR) && ev->len > 0) {
        pending.emplace_back(ev->wd, ev->name);
      }
    }
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    // Looked up again each time: an earlier event may have removed the directory.
    auto it = watched_.find(pending[i].first);
    if ((i == 0 || pending[i] != pending[i - 1]) && it != watched_.end()) {
      resolve_child(*it->second, pending[i].second);
    }
  }
}

// Brings the child `name` of `dir` in line with the filesystem: gone, replaced by a new cgroup
// (another inode), new, or unchanged.
void LeafScanner::resolve_child(Node& dir, const std::string& name) {
  if (dir.depth >= kMaxDepth) {
    return;
  }
  auto it = std::find_if(dir.children.begin(), dir.children.end(),
                         [&](const std::unique_ptr<Node>& c) { return c->name() == name; });
  auto dir_fd = open_node_dir(dir);
  std::unique_ptr<Node> fresh;
  if (dir_fd) {
    struct stat st {};
    auto probe = open_dir_at(dir_fd->get(), name.c_str());
    if (probe && ::fstat(probe->get(), &st) == 0 && st.st_dev == parent_.dev &&
        it != dir.children.end() && (*it)->inode == st.st_ino) {
      return;  // the event was about a cgroup already known
    }
    if (probe) {
      fresh = make_child(dir, name, dir_fd->get());
    }
  }
  if (it != dir.children.end()) {
    release(**it);
    if (fresh) {
      *it = std::move(fresh);
    } else {
      dir.children.erase(it);
    }
  } else if (fresh) {
    dir.children.push_back(std::move(fresh));
  }
}

// A new node for the subdirectory `name` of `up_fd`, with its subtree; null when it is not a
// directory on the parent's mount (or vanished).
std::unique_ptr<LeafScanner::Node> LeafScanner::make_child(Node& up, const std::string& name,
                                                           int up_fd) {
  auto sub = open_dir_at(up_fd, name.c_str());
  struct stat st {};
  if (!sub || ::fstat(sub->get(), &st) != 0 || st.st_dev != parent_.dev) {
    return nullptr;
  }
  auto node = std::make_unique<Node>();
  node->path = up.path + "/" + name;
  node->base = up.path.size() + 1;
  node->inode = st.st_ino;
  node->up = &up;
  node->depth = up.depth + 1;
  ++counters_.dirs;
  reconcile(*node, sub->get(), true);
  return node;
}

// Lists `node` and matches its children by name and inode: new ones are added with their
// subtrees, missing or replaced ones released. With `deep`, known children are reconciled too.
void LeafScanner::reconcile(Node& node, int dir_fd, bool deep) {
  watch(node, dir_fd);  // before listing, so that nothing created in between is missed
  if (node.depth >= kMaxDepth) {
    return;
  }
  ++counters_.dirs_listed;
  std::vector<ChildDir> listed = list_child_dirs(dir_fd);
  std::unordered_map<std::string_view, std::unique_ptr<Node>*> known;
  known.reserve(node.children.size());
  for (auto& c : node.children) {
    known.emplace(c->name(), &c);
  }
  std::vector<std::unique_ptr<Node>> next;
  next.reserve(listed.size());
  for (const ChildDir& child : listed) {
    auto it = known.find(child.name);
    if (it != known.end() && (*it->second)->inode == child.inode) {
      std::unique_ptr<Node>& kept = *it->second;
      if (deep) {
        auto sub = open_dir_at(dir_fd, child.name.c_str());
        struct stat st {};
        if (!sub || ::fstat(sub->get(), &st) != 0 || st.st_ino != child.inode) {
          continue;  // vanished while listing; released below
        }
        reconcile(*kept, sub->get(), true);
      }
      next.push_back(std::move(kept));
      known.erase(it);
    } else if (auto fresh = make_child(node, child.name, dir_fd)) {
      next.push_back(std::move(fresh));
    }
  }
  for (auto& [name, gone] : known) {
    if (*gone) {
      release(**gone);
    }
  }
  node.children = std::move(next);
  if (node.children.empty() && !node.stat && fds_.may_keep()) {
    // A leaf: open its memory.stat now, through the directory already open.
    if (auto stat = open_file_at(dir_fd, files::kMemoryStat)) {
      fds_.keep(node.stat, std::move(*stat));
    }
  }
}

void LeafScanner::watch(Node& node, int dir_fd) {
  if (!inotify_ || node.wd >= 0) {
    return;
  }
  // inotify takes a path; the fd's /proc link names exactly the directory already opened
  // without following symlinks. On failure (ENOSPC: fs.inotify.max_user_watches reached; no
  // /proc) the directory stays unwatched and is listed on every scan.
  const std::string path = "/proc/self/fd/" + std::to_string(dir_fd);
  int wd = ::inotify_add_watch(inotify_.get(), path.c_str(), kWatchMask);
  if (wd >= 0) {
    node.wd = wd;
    watched_[wd] = &node;
  }
}

void LeafScanner::release(Node& node) {
  for (auto& c : node.children) {
    release(*c);
  }
  node.children.clear();
  if (node.wd >= 0) {
    ::inotify_rm_watch(inotify_.get(), node.wd);
    watched_.erase(node.wd);
    node.wd = -1;
  }
  fds_.drop(node.stat);
  node.usage.release(fds_);
  node.limits.release(fds_);
  --counters_.dirs;
}

void LeafScanner::emit(Node& node, Limit limit, std::vector<core::LeafSample>& out, size_t& count) {
  if (node.wd < 0 && node.depth < kMaxDepth && !walked_) {
    // Not watched: list it now to see changes.
    if (auto dir = open_node_dir(node)) {
      reconcile(node, dir->get(), false);
    }
  }
  if (parent_.version == Version::kV2 && node.up != nullptr) {
    const auto open = [this, &node](const char* file) { return open_file(node, file); };
    limit = core::tighter(limit, node.limits.read(fds_, open, buf_));
  }
  if (node.children.empty()) {
    sample(node, limit, out, count);
    return;
  }
  fds_.drop(node.stat);  // no longer a leaf
  node.usage.release(fds_);
  for (auto& child : node.children) {
    emit(*child, limit, out, count);
  }
}

void LeafScanner::sample(Node& node, Limit limit, std::vector<core::LeafSample>& out,
                         size_t& count) {
  std::optional<IoResult<Fd>> dir;  // opened once for the files not kept open
  IoResult<core::MemoryStats> stats = IoError{};
  if (node.stat) {
    stats = pread_leaf_stats(node.stat.get(), parent_.version, limit, buf_);
    if (!stats && stats.error().vanished()) {
      dead_.push_back(&node);  // a kept file of a removed cgroup: close it, drop the node
      return;
    }
  } else if (auto fd = open_file(node, files::kMemoryStat, dir); !fd) {
    stats = fd.error();
  } else {
    stats = pread_leaf_stats(fd->get(), parent_.version, limit, buf_);
    // Kept when it could be read, even if its text did not parse.
    const bool read = stats || stats.error().op == std::string_view("parse");
    if (read && fds_.may_keep()) {
      fds_.keep(node.stat, std::move(*fd));
    }
  }
  if (!stats && stats.error().vanished()) {
    return;
  }
  if (count == out.size()) {
    out.emplace_back();
  }
  // Samples are assigned in place: a leaf seen again keeps its name without touching the count.
  core::LeafSample& s = out[count++];
  s.name = node.path;
  s.inode = node.inode;
  if (stats) {
    s.stats = *stats;
    // After memory.stat, as the kubelet reads them. A usage that cannot be read is no error:
    // the stats decide the leaf.
    const auto open = [&](const char* file) { return open_file(node, file, dir); };
    s.usage_bytes =
        options_.read_usage ? node.usage.read(parent_.version, fds_, open) : std::nullopt;
    s.error.clear();
  } else {
    s.stats.reset();
    s.usage_bytes.reset();
    s.error = stats.error().describe(node.path);
  }
}

IoResult<Fd> LeafScanner::open_node_dir(const Node& node) const {
  const std::string_view path = node.path;
  const size_t skip = parent_.name.size() + 1;
  return open_dir_beneath(root_fd_->get(), path.size() > skip ? path.substr(skip) : ".");
}

// Opens `file` of `node` through the path from the parent, for when it is not kept open.
IoResult<Fd> LeafScanner::open_file(const Node& node, const char* file) {
  std::optional<IoResult<Fd>> dir;
  return open_file(node, file, dir);
}

IoResult<Fd> LeafScanner::open_file(const Node& node, const char* file,
                                    std::optional<IoResult<Fd>>& dir) {
  if (!dir) {
    dir = open_node_dir(node);
  }
  if (!*dir) {
    const int err = (*dir).error().err;
    return IoError{err == ENOTDIR || err == EXDEV ? ENOENT : err, "open", file};
  }
  return fds_.open_file_at((*dir)->get(), file);
}

}  // namespace cgmm::cgroup
