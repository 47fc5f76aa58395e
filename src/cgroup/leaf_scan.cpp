#include "cgroup/leaf_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "cgroup/compact_vector.h"
#include "cgroup/files.h"
#include "cgroup/io.h"

namespace cgmm::cgroup {

// One directory of the tree. The scanner's own state; samples share only its name.
struct LeafScanner::Node {
  std::string path;  // the cgroup's name, "<parent name>/<path below it>"; the parent's own name
  uint64_t inode = 0;
  Node* up = nullptr;
  int wd = -1;        // inotify watch, or -1: listed on every scan
  Fd stat;            // memory.stat, kept while this is a leaf and the fd budget allows
  Fd max;             // v2: memory.max, kept while the fd budget allows
  uint16_t base = 0;  // where the last path component starts in `path` (its size for the parent)
  uint8_t depth = 0;
  CompactVector<std::unique_ptr<Node>> children;

  // The path component; empty for the parent.
  std::string_view name() const { return std::string_view(path).substr(base); }
};

namespace {

// cgroup v1 and v2 both cap nesting far below this; deeper trees are not walked further.
constexpr int kMaxDepth = 32;

// Subdirectories appearing, disappearing or being renamed; and the directory itself going away.
constexpr uint32_t kWatchMask =
    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR;

std::optional<uint64_t> min_limit(std::optional<uint64_t> a, std::optional<uint64_t> b) {
  if (!a) {
    return b;
  }
  if (!b) {
    return a;
  }
  return std::min(*a, *b);
}

struct ChildDir {
  std::string name;
  uint64_t inode;
};

// Lists the subdirectories of `dir_fd`, a freshly opened directory (its offset at the start). A
// directory that vanished lists as empty.
std::vector<ChildDir> child_dirs(int dir_fd) {
  std::vector<ChildDir> out;
  alignas(struct dirent64) std::array<char, 8192> buf;
  for (;;) {
    ssize_t n = ::getdents64(dir_fd, buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    for (ssize_t off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf.data() + off);
      off += d->d_reclen;
      const char* nm = d->d_name;
      if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'))) {
        continue;
      }
      bool is_dir = d->d_type == DT_DIR;
      if (d->d_type == DT_UNKNOWN) {
        struct stat st {};
        is_dir = ::fstatat(dir_fd, nm, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir) {
        out.push_back({nm, d->d_ino});
      }
    }
  }
  return out;
}

// Reads a cgroupfs (or regular) file from offset 0. cgroupfs files are seq_files: a pread at a
// non-zero offset makes the kernel generate the whole text again to skip to it, so the usual
// "read until 0" would double the cost. A read shorter than the buffer has reached the end, on
// seq_files as on regular files, so one pread is enough unless the buffer filled up.
IoStatus read_whole(int fd, const char* name, std::string& buf) {
  constexpr size_t kInitial = 8192;
  if (buf.capacity() < kInitial) {
    buf.reserve(kInitial);
  }
  buf.resize(buf.capacity());
  ssize_t n;
  do {
    n = ::pread(fd, buf.data(), buf.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    buf.clear();
    return IoError{errno, "read", name};
  }
  if (static_cast<size_t>(n) < buf.size()) {
    buf.resize(static_cast<size_t>(n));
    return Ok{};
  }
  return pread_all(fd, name, buf);
}

IoResult<core::MemoryStats> stats_from_text(const std::string& text, Version version,
                                      std::optional<uint64_t> v2_limit) {
  auto stats = parse_memory_stat(text, version);
  if (!stats) {
    return IoError{EBADMSG, "parse", files::kMemoryStat};
  }
  if (version == Version::kV2) {
    stats->limit_bytes = v2_limit;
  }
  return *stats;
}

std::optional<uint64_t> limit_from_text(const std::string& text) {
  auto limit = parse_memory_max(text);
  return limit ? *limit : std::nullopt;
}

// Growing a process's fd table while other threads exist waits for an RCU grace period (many
// milliseconds on a busy VM), once per doubling. Growing it once up front, before the first walk
// opens a file per leaf, leaves at most a few such waits for the largest trees.
constexpr size_t kInitialFdTable = 4096;

void reserve_fd_table(int any_fd, size_t fds) {
  if (fds > 0) {
    int fd = ::fcntl(any_fd, F_DUPFD_CLOEXEC, static_cast<int>(fds - 1));
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

int open_file_at(int dir_fd, const char* name) {
  int fd;
  do {
    fd = ::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

size_t raise_fd_limit() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
  });
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
    return 1024;
  }
  return static_cast<size_t>(rl.rlim_cur);
}

LeafScanner::LeafScanner(const Parent& parent, LeafScanOptions options)
    : parent_(parent), options_(options) {
  const size_t limit = raise_fd_limit();
  counters_.fd_budget = limit > options_.fd_reserve ? limit - options_.fd_reserve : 0;
  reserve_fd_table(parent_.fd.get(), std::min(counters_.fd_budget, kInitialFdTable));
  root_fd_ = std::make_shared<const Fd>(::fcntl(parent_.fd.get(), F_DUPFD_CLOEXEC, 0));
  leaf_dir_ = LeafDir(root_fd_, parent_.name.size());
  if (options_.watch) {
    inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  }
  if (parent_.version == Version::kV2) {
    for (const Fd& ancestor : parent_.limit_ancestors) {
      ancestor_max_.emplace_back(open_file_at(ancestor.get(), files::kMemoryMax));
    }
  }
}

LeafScanner::~LeafScanner() = default;

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
    root_->base = static_cast<uint16_t>(root_->path.size());
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
    Fd dir(::openat(root_fd_->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir) {
      reconcile(*root_, dir.get(), true);
    }
  }

  Limit limit;
  if (parent_.version == Version::kV2) {
    for (const Fd& max : ancestor_max_) {
      if (max && read_whole(max.get(), files::kMemoryMax, buf_)) {
        limit = min_limit(limit, limit_from_text(buf_));
      }
    }
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
  counters_.unwatched_dirs = counters_.dirs - watched_.size();
}

void LeafScanner::drain_events() {
  if (!inotify_) {
    return;
  }
  struct Pending {
    int wd;
    std::string name;
  };
  std::vector<Pending> pending;
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
        if (Node* node = watched_.find(ev->wd)) {
          node->wd = -1;
          watched_.erase(ev->wd);
        }
        continue;
      }
      if ((ev->mask & IN_ISDIR) && ev->len > 0) {
        pending.push_back({ev->wd, ev->name});
      }
    }
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    if (i > 0 && pending[i].wd == pending[i - 1].wd && pending[i].name == pending[i - 1].name) {
      continue;
    }
    // Looked up again each time: an earlier event may have removed the directory.
    if (Node* dir = watched_.find(pending[i].wd)) {
      resolve_child(*dir, pending[i].name);
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
    Fd probe(
        ::openat(dir_fd->get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (probe && ::fstat(probe.get(), &st) == 0 && st.st_dev == parent_.dev &&
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
  node->base = static_cast<uint16_t>(up.path.size() + 1);
  node->inode = st.st_ino;
  node->up = &up;
  node->depth = static_cast<uint8_t>(up.depth + 1);
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
  std::vector<ChildDir> listed = child_dirs(dir_fd);
  std::unordered_map<std::string_view, std::unique_ptr<Node>*> known;
  known.reserve(node.children.size());
  for (auto& c : node.children) {
    known.emplace(c->name(), &c);
  }
  CompactVector<std::unique_ptr<Node>> next;
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
  if (node.children.empty() && !node.stat && may_keep()) {
    // A leaf: open its memory.stat now, through the directory already open.
    Fd stat(open_file_at(dir_fd, files::kMemoryStat));
    if (stat) {
      keep(node.stat, std::move(stat));
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
    watched_.insert(wd, &node);
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
  drop(node.stat);
  drop(node.max);
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
    limit = min_limit(limit, own_limit(node));
  }
  if (node.children.empty()) {
    sample(node, limit, out, count);
    return;
  }
  drop(node.stat);  // no longer a leaf
  for (auto& child : node.children) {
    emit(*child, limit, out, count);
  }
}

void LeafScanner::sample(Node& node, Limit limit, std::vector<core::LeafSample>& out, size_t& count) {
  IoStatus read = Ok{};
  if (node.stat) {
    read = read_whole(node.stat.get(), files::kMemoryStat, buf_);
    if (!read && read.error().vanished()) {
      dead_.push_back(&node);  // a kept file of a removed cgroup: close it, drop the node
      return;
    }
  } else {
    auto fd = open_file(node, files::kMemoryStat);
    if (!fd) {
      read = fd.error();
    } else {
      read = read_whole(fd->get(), files::kMemoryStat, buf_);
      if (read && fd->valid() && may_keep()) {
        keep(node.stat, std::move(*fd));
      }
    }
  }
  IoResult<core::MemoryStats> stats =
      read ? stats_from_text(buf_, parent_.version, limit) : IoResult<core::MemoryStats>(read.error());
  if (!stats && stats.error().vanished()) {
    return;
  }
  if (count == out.size()) {
    out.emplace_back();
  }
  // Samples are assigned in place: a leaf seen again keeps its name without touching the count.
  core::LeafSample& s = out[count++];
  if (s.name != node.path) {
    s.name = node.path;
  }
  s.inode = node.inode;
  if (stats) {
    s.stats = *stats;
    s.error.clear();
  } else {
    s.stats.reset();
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
  auto dir = open_node_dir(node);
  if (!dir) {
    const int err = dir.error().err;
    return IoError{err == ENOTDIR || err == EXDEV ? ENOENT : err, "open", file};
  }
  Fd fd(open_file_at(dir->get(), file));
  if (!fd) {
    if (errno == EMFILE || errno == ENFILE) {
      counters_.fd_budget = counters_.kept_fds;  // keep no more than already kept
    }
    return IoError{errno, "open", file};
  }
  return fd;
}

LeafScanner::Limit LeafScanner::own_limit(Node& node) {
  if (node.max) {
    if (read_whole(node.max.get(), files::kMemoryMax, buf_)) {
      return limit_from_text(buf_);
    }
    drop(node.max);
    return std::nullopt;
  }
  auto fd = open_file(node, files::kMemoryMax);
  if (!fd || !read_whole(fd->get(), files::kMemoryMax, buf_)) {
    return std::nullopt;
  }
  if (may_keep()) {
    keep(node.max, std::move(*fd));
  }
  return limit_from_text(buf_);
}

void LeafScanner::keep(Fd& slot, Fd fd) {
  if (!slot) {
    ++counters_.kept_fds;
  }
  slot = std::move(fd);
}

void LeafScanner::drop(Fd& slot) {
  if (slot) {
    --counters_.kept_fds;
    slot.reset();
  }
}

IoResult<core::MemoryStats> read_leaf_stats(int dir_fd, Version version, std::optional<uint64_t> v2_limit,
                                      std::string& buf) {
  Fd fd(open_file_at(dir_fd, files::kMemoryStat));
  if (!fd) {
    return IoError{errno, "open", files::kMemoryStat};
  }
  if (auto st = read_whole(fd.get(), files::kMemoryStat, buf); !st) {
    return st.error();
  }
  return stats_from_text(buf, version, v2_limit);
}

IoResult<uint64_t> read_usage(int dir_fd, Version version, std::string& buf) {
  const char* name = version == Version::kV1 ? files::kMemoryUsage : files::kMemoryCurrent;
  if (auto st = read_file_at(dir_fd, name, buf); !st) {
    return st.error();
  }
  if (auto usage = parse_usage(buf)) {
    return *usage;
  }
  return IoError{EBADMSG, "parse", name};
}

IoResult<uint64_t> pread_usage(int fd, const char* name) {
  char text[32];  // a byte count and a newline
  auto n = pread_small(fd, name, text, sizeof text);
  if (!n) {
    return n.error();
  }
  if (auto usage = parse_usage(std::string_view(text, *n))) {
    return *usage;
  }
  return IoError{EBADMSG, "parse", name};
}

}  // namespace cgmm::cgroup
