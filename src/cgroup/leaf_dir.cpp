#include "cgroup/leaf_dir.h"

#include <sys/stat.h>

#include <cerrno>

#include "cgroup/io.h"

namespace cgmm::cgroup {

namespace {

constexpr const char* kDirectory = "directory";

}  // namespace

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
