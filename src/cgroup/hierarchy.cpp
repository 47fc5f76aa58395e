#include "cgroup/hierarchy.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

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
  if (!read_file_at(dir_fd, files::kControllers, text)) {
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

}  // namespace

std::variant<Parent, ParentError> open_parent(const std::string& path) {
  auto opened = open_path(path);
  if (!opened) {
    const int err = opened.error().err;
    if (err == ENOENT) {
      return ParentError{"parent cgroup " + path + " does not exist"};
    }
    if (err == ELOOP) {
      return ParentError{"parent cgroup " + path + " is a symlink; give the real path"};
    }
    return ParentError{"cannot open parent cgroup " + path + ": " + std::strerror(err)};
  }
  Fd fd = std::move(*opened);
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
    if (!exists_at(fd.get(), files::kMemoryStat)) {
      return ParentError{"parent cgroup " + path +
                         " is on cgroup v1 but not in the memory hierarchy (no memory.stat)"};
    }
  } else if (fs.f_type == CGROUP2_SUPER_MAGIC) {
    parent.version = Version::kV2;
    if (!controller_listed(fd.get(), "memory")) {
      return ParentError{"parent cgroup " + path +
                         " is on cgroup v2 but the memory controller is not enabled for it"};
    }
    // A cgroup2 mount root has no memory.max nor memory.high: the limits that bound every leaf
    // are those of the parent and its ancestors below it.
    parent.limit_ancestors = open_ancestors_below_mount_root(fd.get(), st.st_dev);
  } else {
    return ParentError{"parent cgroup " + path + " is not on a cgroup filesystem"};
  }
  parent.fd = std::move(fd);
  return parent;
}

}  // namespace cgmm::cgroup
