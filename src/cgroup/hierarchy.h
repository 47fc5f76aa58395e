#pragma once

#include <sys/types.h>

#include <string>
#include <variant>
#include <vector>

#include "cgroup/fd.h"
#include "cgroup/memory_stat.h"

namespace cgmm::cgroup {

// The managed parent cgroup, opened and checked once at start-up.
struct Parent {
  std::string path;  // as given
  std::string name;  // its last path component, the prefix of every leaf's display name
  Fd fd;
  dev_t dev = 0;  // the cgroupfs mount; the walk never leaves it
  Version version = Version::kV1;
  // v2 only: the parent and its ancestors up to the cgroup2 mount root, whose memory.max and
  // memory.high bound every leaf. Root first.
  std::vector<Fd> limit_ancestors;
};

// Why a path cannot be the managed parent, in words fit for the user.
struct ParentError {
  std::string message;
};

// Opens `path` and checks that it is a directory on a cgroup filesystem with the memory
// controller. The hierarchy version comes from the filesystem's magic number.
std::variant<Parent, ParentError> open_parent(const std::string& path);

}  // namespace cgmm::cgroup
