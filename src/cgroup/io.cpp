#include "cgroup/io.h"

#include <fcntl.h>
#include <unistd.h>

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

int open_retry(int dir_fd, const char* name, int flags) {
  int fd;
  do {
    fd = ::openat(dir_fd, name, flags | O_CLOEXEC | O_NOFOLLOW);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

IoResult<Fd> open_dir_at(int dir_fd, const char* name) {
  int fd = open_retry(dir_fd, name, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    return IoError{errno, "open", name};
  }
  return Fd(fd);
}

IoStatus pread_all(int fd, const char* name, std::string& buf) {
  // memory.stat is about 1.5 KiB on v1 and 1 KiB on v2; grow only if a kernel ever writes more.
  constexpr size_t kInitial = 4096;
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
    if (n == 0) {
      break;
    }
    used += static_cast<size_t>(n);
    if (used == buf.size()) {
      buf.resize(buf.size() * 2);
    }
  }
  buf.resize(used);
  return Ok{};
}

IoStatus read_file_at(int dir_fd, const char* name, std::string& buf) {
  Fd fd(open_retry(dir_fd, name, O_RDONLY));
  if (!fd) {
    buf.clear();
    return IoError{errno, "open", name};
  }
  return pread_all(fd.get(), name, buf);
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

}  // namespace cgmm::cgroup
