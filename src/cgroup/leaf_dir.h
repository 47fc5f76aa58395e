#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "cgroup/fd.h"
#include "cgroup/result.h"

namespace cgmm::cgroup {

// How a sample names its leaf's directory without holding it open: the scanner's root plus the
// sample's name and inode. Copying one costs no system call and no file descriptor, so a scan
// can hand one to every sample; only a reclaim opens the directory.
class LeafDir {
 public:
  LeafDir() = default;
  // `root` is the managed parent; leaf names are "<parent name>/<path below it>".
  LeafDir(std::shared_ptr<const Fd> root, size_t parent_name_size)
      : root_(std::move(root)), parent_name_size_(parent_name_size) {}

  bool valid() const { return root_ && root_->valid(); }

  // Opens the leaf called `name` beneath the root (open_dir_beneath: no symlink, no other mount)
  // and checks that it is still the incarnation `inode`. A leaf that is gone or was replaced by a
  // new cgroup of the same name answers ENOENT.
  IoResult<Fd> open(std::string_view name, uint64_t inode) const;

 private:
  std::shared_ptr<const Fd> root_;
  size_t parent_name_size_ = 0;
};

}  // namespace cgmm::cgroup
