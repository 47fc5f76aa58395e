#include "cgroup/leaf_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "cgroup/files.h"
#include "cgroup/io.h"

namespace cgmm::cgroup {

namespace {

// cgroup v1 and v2 both cap nesting far below this; deeper trees are not walked further.
constexpr int kMaxDepth = 32;

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

// Lists the subdirectories of `dir_fd`. A directory that vanished lists as empty.
std::vector<ChildDir> child_dirs(int dir_fd) {
  std::vector<ChildDir> out;
  alignas(struct dirent64) char buf[8192];
  if (::lseek(dir_fd, 0, SEEK_SET) != 0) {
    return out;
  }
  for (;;) {
    ssize_t n = ::getdents64(dir_fd, buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    for (ssize_t off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
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

}  // namespace

void LeafScanner::scan(std::vector<LeafSample>& out) {
  out.clear();
  std::optional<uint64_t> limit;
  if (parent_.version == Version::kV2) {
    for (const Fd& ancestor : parent_.limit_ancestors) {
      limit = min_limit(limit, v2_own_limit(ancestor.get()));
    }
  }
  Fd root(::openat(parent_.fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  struct stat st {};
  if (!root || ::fstat(root.get(), &st) != 0) {
    return;
  }
  std::string name = parent_.name;
  walk(std::move(root), st.st_ino, name, limit, 0, out);
}

void LeafScanner::walk(Fd dir, uint64_t inode, std::string& name, std::optional<uint64_t> limit,
                       int depth, std::vector<LeafSample>& out) {
  std::vector<ChildDir> children = child_dirs(dir.get());
  if (children.empty() || depth >= kMaxDepth) {
    LeafSample leaf;
    leaf.name = name;
    leaf.inode = inode;
    leaf.dir = std::move(dir);
    sample(leaf, limit);
    if (leaf.stats || leaf.error) {
      out.push_back(std::move(leaf));
    }
    return;
  }
  const size_t base = name.size();
  for (const ChildDir& child : children) {
    auto sub = open_dir_at(dir.get(), child.name.c_str());
    if (!sub) {
      continue;  // vanished, or replaced by something that is not a directory
    }
    struct stat st {};
    if (::fstat(sub->get(), &st) != 0 || st.st_dev != parent_.dev) {
      continue;  // another filesystem mounted inside the tree
    }
    std::optional<uint64_t> child_limit = limit;
    if (parent_.version == Version::kV2) {
      child_limit = min_limit(limit, v2_own_limit(sub->get()));
    }
    name.append(1, '/').append(child.name);
    walk(std::move(*sub), child.inode, name, child_limit, depth + 1, out);
    name.resize(base);
  }
}

void LeafScanner::sample(LeafSample& leaf, std::optional<uint64_t> limit) {
  auto stats = read_leaf_stats(leaf.dir.get(), parent_.version, limit, buf_);
  if (stats) {
    leaf.stats = *stats;
  } else if (!stats.error().vanished()) {
    leaf.error = stats.error();
  }
}

IoResult<MemoryStats> read_leaf_stats(int dir_fd, Version version, std::optional<uint64_t> v2_limit,
                                      std::string& buf) {
  if (auto st = read_file_at(dir_fd, files::kMemoryStat, buf); !st) {
    return st.error();
  }
  auto stats = parse_memory_stat(buf, version);
  if (!stats) {
    return IoError{EBADMSG, "parse", files::kMemoryStat};
  }
  if (version == Version::kV2) {
    stats->limit_bytes = v2_limit;
  }
  return *stats;
}

std::optional<uint64_t> LeafScanner::v2_own_limit(int dir_fd) {
  if (!read_file_at(dir_fd, files::kMemoryMax, buf_)) {
    return std::nullopt;
  }
  auto limit = parse_memory_max(buf_);
  return limit ? *limit : std::nullopt;
}

}  // namespace cgmm::cgroup
