#include "cgroup/io.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace cgmm::cgroup {

std::string IoError::describe(std::string_view cgroup) const {
  std::string s = "failed to ";
  s += op;
  s += ' ';
  s += file;
  if (!cgroup.empty()) {
    s += " of ";
    s += cgroup;
  }
  s += ": ";
  s += std::strerror(err);
  return s;
}

namespace {

constexpr const char* kDirectory = "directory";

int open_retry(int dir_fd, const char* name, int flags) {
  int fd;
  do {
    fd = ::openat(dir_fd, name, flags | O_CLOEXEC | O_NOFOLLOW);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

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
    Fd next(open_retry(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY));
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

IoResult<Fd> open_dir_at(int dir_fd, const char* name) {
  int fd = open_retry(dir_fd, name, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    return IoError{errno, "open", name};
  }
  return Fd(fd);
}

IoResult<Fd> open_file_at(int dir_fd, const char* name) {
  int fd = open_retry(dir_fd, name, O_RDONLY);
  if (fd < 0) {
    return IoError{errno, "open", name};
  }
  return Fd(fd);
}

IoStatus pread_all(int fd, const char* name, std::string& buf) {
  // memory.stat is about 1.5 KiB on v1 and 1 KiB on v2: one pread, unless a kernel writes more.
  constexpr size_t kInitial = 8192;
  if (buf.capacity() < kInitial) {
    buf.reserve(kInitial);
  }
  buf.resize(buf.capacity());
  size_t used = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data() + used, buf.size() - used, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      buf.clear();
      return IoError{errno, "read", name};
    }
    used += static_cast<size_t>(n);
    if (used < buf.size()) {
      break;
    }
    buf.resize(buf.size() * 2);
  }
  buf.resize(used);
  return Ok{};
}

IoStatus read_file_at(int dir_fd, const char* name, std::string& buf) {
  auto fd = open_file_at(dir_fd, name);
  if (!fd) {
    buf.clear();
    return fd.error();
  }
  return pread_all(fd->get(), name, buf);
}

IoResult<size_t> pread_small(int fd, const char* name, char* buf, size_t size) {
  ssize_t n;
  do {
    n = ::pread(fd, buf, size, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return IoError{errno, "read", name};
  }
  if (static_cast<size_t>(n) >= size) {
    return IoError{EFBIG, "read", name};
  }
  return static_cast<size_t>(n);
}

IoStatus write_file_at(int dir_fd, const char* name, std::string_view data) {
  Fd fd(open_retry(dir_fd, name, O_WRONLY));
  if (!fd) {
    return IoError{errno, "open", name};
  }
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) {
    return IoError{errno, "write", name};
  }
  if (static_cast<size_t>(n) != data.size()) {
    return IoError{EIO, "write", name};
  }
  return Ok{};
}

bool exists_at(int dir_fd, const char* name) {
  return ::faccessat(dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

std::vector<ChildDir> list_child_dirs(int dir_fd) {
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

IoResult<Fd> open_path(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return IoError{errno, "open", kDirectory};
  }
  return Fd(fd);
}

std::vector<Fd> open_ancestors_below_mount_root(int dir_fd, dev_t dev) {
  std::vector<Fd> chain;
  auto current = open_dir_at(dir_fd, ".");
  while (current) {
    auto up = open_dir_at(current->get(), "..");
    struct stat st {};
    struct stat here {};
    if (!up || ::fstat(up->get(), &st) != 0 || ::fstat(current->get(), &here) != 0 ||
        st.st_dev != dev || st.st_ino == here.st_ino) {
      break;  // `current` is the mount root
    }
    chain.insert(chain.begin(), std::move(*current));
    current = std::move(up);
  }
  return chain;
}

}  // namespace cgmm::cgroup
