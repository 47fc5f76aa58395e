#include "cgroup/hierarchy.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgroup/files.h"
#include "cgroup/io.h"

namespace cgmm::cgroup {

namespace {

std::string last_component(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

bool controller_listed(int dir_fd, const char* controller) {
  std::string text;
  if (!read_file_at(dir_fd, "cgroup.controllers", text)) {
    return false;
  }
  size_t pos = 0;
  const size_t len = std::strlen(controller);
  while ((pos = text.find(controller, pos)) != std::string::npos) {
    bool starts = pos == 0 || text[pos - 1] == ' ';
    bool ends = pos + len == text.size() || text[pos + len] == ' ' || text[pos + len] == '\n';
    if (starts && ends) {
      return true;
    }
    pos += len;
  }
  return false;
}

// The parent and each ancestor on the same mount, root first. A cgroup2 mount root has no
// memory.max, so it is left out.
std::vector<Fd> v2_limit_ancestors(int parent_fd, dev_t dev) {
  std::vector<Fd> chain;
  Fd current(::openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  while (current) {
    Fd up(::openat(current.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    struct stat here {};
    if (!up || ::fstat(up.get(), &st) != 0 || ::fstat(current.get(), &here) != 0 ||
        st.st_dev != dev || (st.st_ino == here.st_ino)) {
      break;  // `current` is the mount root
    }
    chain.insert(chain.begin(), std::move(current));
    current = std::move(up);
  }
  return chain;
}

}  // namespace

std::variant<Parent, ParentError> open_parent(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    int err = errno;
    if (err == ENOENT) {
      return ParentError{"parent cgroup " + path + " does not exist"};
    }
    if (err == ELOOP) {
      return ParentError{"parent cgroup " + path + " is a symlink; give the real path"};
    }
    return ParentError{"cannot open parent cgroup " + path + ": " + std::strerror(err)};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return ParentError{"parent cgroup " + path + " is not a directory"};
  }
  struct statfs fs {};
  if (::fstatfs(fd.get(), &fs) != 0) {
    return ParentError{"cannot statfs parent cgroup " + path + ": " + std::strerror(errno)};
  }

  Parent parent;
  parent.path = path;
  parent.name = last_component(path);
  parent.dev = st.st_dev;
  if (fs.f_type == CGROUP_SUPER_MAGIC) {
    parent.version = Version::kV1;
    if (::faccessat(fd.get(), files::kMemoryStat, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
      return ParentError{"parent cgroup " + path +
                         " is on cgroup v1 but not in the memory hierarchy (no memory.stat)"};
    }
  } else if (fs.f_type == CGROUP2_SUPER_MAGIC) {
    parent.version = Version::kV2;
    if (!controller_listed(fd.get(), "memory")) {
      return ParentError{"parent cgroup " + path +
                         " is on cgroup v2 but the memory controller is not enabled for it"};
    }
    parent.limit_ancestors = v2_limit_ancestors(fd.get(), st.st_dev);
  } else {
    return ParentError{"parent cgroup " + path + " is not on a cgroup filesystem"};
  }
  parent.fd = std::move(fd);
  return parent;
}

}  // namespace cgmm::cgroup
