#include "cgroup/leaf_dir.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

namespace cgmm::cgroup {

namespace {

constexpr const char* kDirectory = "directory";

// One openat per component, for kernels before openat2 (5.6): O_NOFOLLOW on each component
// refuses symlinks, and each step is checked to stay on the root's mount.
IoResult<Fd> open_by_components(int root_fd, std::string_view rel) {
  struct stat root_st {};
  if (::fstat(root_fd, &root_st) != 0) {
    return IoError{errno, "stat", kDirectory};
  }
  Fd cur(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!cur) {
    return IoError{errno, "open", kDirectory};
  }
  std::string part;
  while (!rel.empty()) {
    size_t slash = rel.find('/');
    part.assign(rel.substr(0, slash));
    rel = slash == std::string_view::npos ? std::string_view{} : rel.substr(slash + 1);
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      return IoError{EXDEV, "open", kDirectory};
    }
    Fd next(::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!next) {
      return IoError{errno, "open", kDirectory};
    }
    if (::fstat(next.get(), &st) != 0 || st.st_dev != root_st.st_dev) {
      return IoError{EXDEV, "open", kDirectory};
    }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace

IoResult<Fd> open_dir_beneath(int root_fd, std::string_view rel) {
  static std::atomic<bool> have_openat2{true};
  if (have_openat2.load(std::memory_order_relaxed)) {
    std::string path(rel.empty() ? std::string_view(".") : rel);
    open_how how{};
    how.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
    long fd;
    do {
      fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    if (fd >= 0) {
      return Fd(static_cast<int>(fd));
    }
    if (errno != ENOSYS) {
      return IoError{errno, "open", kDirectory};
    }
    have_openat2.store(false, std::memory_order_relaxed);
  }
  return open_by_components(root_fd, rel);
}

IoResult<Fd> LeafDir::open(std::string_view name, uint64_t inode) const {
  if (!valid()) {
    return IoError{EBADF, "open", kDirectory};
  }
  std::string_view rel = ".";
  if (name.size() > parent_name_size_) {
    rel = name.substr(parent_name_size_ + 1);
  }
  auto dir = open_dir_beneath(root_->get(), rel);
  if (!dir) {
    if (dir.error().err == ENOTDIR || dir.error().err == ELOOP) {
      return IoError{ENOENT, "open", kDirectory};
    }
    return dir;
  }
  struct stat st {};
  if (::fstat(dir->get(), &st) != 0) {
    return IoError{errno, "stat", kDirectory};
  }
  if (st.st_ino != inode) {
    return IoError{ENOENT, "open", kDirectory};  // a new cgroup under the old name
  }
  return dir;
}

}  // namespace cgmm::cgroup
