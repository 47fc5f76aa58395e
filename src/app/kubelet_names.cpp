#include "app/kubelet_names.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace cgmm::app {
namespace {

// IN_ONLYDIR: a path that is not a directory is refused at once (ENOTDIR), never watched. The self
// events say the directory itself went away, so its names with it.
constexpr uint32_t kWatchMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
constexpr uint32_t kGoneMask = IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT;

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

std::string reason_text(int err) {
  if (err == ENOSPC) {
    return "out of inotify watches (fs.inotify.max_user_watches)";
  }
  return std::strerror(err);
}

// What the daemon loses without the directory, and what it names leaves by instead.
std::string unavailable_message(std::string_view what, std::string_view path,
                                const std::string& reason) {
  std::string message(what);
  message += " are not available: ";
  message += path;
  message += ": ";
  message += reason;
  message += what == "pod names" ? "; leaves are named by their cgroup path"
                                 : "; containers are named by their id";
  return message;
}

// A pod has a directory, a container a symlink; anything else in either tree is not the
// kubelet's and is skipped.
bool wanted(bool pods, bool is_dir) {
  return pods == is_dir;
}

}  // namespace

KubeletNames::KubeletNames(std::string pods_dir, std::string containers_dir)
    : trees_{Tree{std::move(pods_dir), Kind::kPods},
             Tree{std::move(containers_dir), Kind::kContainers}} {
  inotify_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  const int inotify_errno = inotify_ ? 0 : errno;
  for (Tree& tree : trees_) {
    start(tree, inotify_errno);
  }
  if (fd() < 0) {
    inotify_.reset();
  }
}

// The watch comes before the listing: an entry made or removed meanwhile is in both, and adding
// or removing a name twice changes nothing, so the table ends as the directory is.
void KubeletNames::start(Tree& tree, int inotify_errno) {
  const std::string_view what = tree.kind == Kind::kPods ? "pod names" : "container names";
  if (inotify_errno != 0) {
    unavailable_.push_back(unavailable_message(
        what, tree.path, "failed to create an inotify instance: " + reason_text(inotify_errno)));
    return;
  }
  tree.wd = ::inotify_add_watch(inotify_.get(), tree.path.c_str(), kWatchMask);
  if (tree.wd < 0) {
    const int err = errno;
    unavailable_.push_back(unavailable_message(what, tree.path, reason_text(err)));
    return;
  }
  if (const int err = list(tree); err != 0) {
    unwatch(tree);
    relist();
    unavailable_.push_back(unavailable_message(what, tree.path, reason_text(err)));
  }
}

int KubeletNames::list(const Tree& tree) {
  const int dir_fd = ::open(tree.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return errno;
  }
  const std::unique_ptr<DIR, DirCloser> dir(::fdopendir(dir_fd));
  if (!dir) {
    const int err = errno;
    ::close(dir_fd);
    return err;
  }
  const bool pods = tree.kind == Kind::kPods;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      return errno;
    }
    bool is_dir = entry->d_type == DT_DIR;
    if (entry->d_type == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;  // gone since the listing began
      }
      is_dir = S_ISDIR(st.st_mode);
    }
    if (!wanted(pods, is_dir)) {
      continue;
    }
    if (pods) {
      table_.add_pod_dir(entry->d_name);
    } else {
      table_.add_container_link(entry->d_name);
    }
  }
}

// A listing that fails part way leaves some of its names behind: everything is listed again
// without that directory.
void KubeletNames::relist() {
  for (bool again = true; again;) {
    again = false;
    table_.clear();
    for (Tree& tree : trees_) {
      if (tree.wd >= 0 && list(tree) != 0) {
        unwatch(tree);
        again = true;
        break;
      }
    }
  }
}

void KubeletNames::unwatch(Tree& tree) {
  if (tree.wd >= 0) {
    ::inotify_rm_watch(inotify_.get(), tree.wd);
    tree.wd = -1;
  }
}

KubeletNames::Tree* KubeletNames::tree_of(int wd) {
  for (Tree& tree : trees_) {
    if (tree.wd >= 0 && tree.wd == wd) {
      return &tree;
    }
  }
  return nullptr;
}

void KubeletNames::apply(Tree& tree, uint32_t mask, std::string_view name) {
  if (name.empty() || !wanted(tree.kind == Kind::kPods, (mask & IN_ISDIR) != 0)) {
    return;
  }
  const bool added = (mask & (IN_CREATE | IN_MOVED_TO)) != 0;
  const bool removed = (mask & (IN_DELETE | IN_MOVED_FROM)) != 0;
  if (tree.kind == Kind::kPods) {
    if (added) {
      table_.add_pod_dir(name);
    } else if (removed) {
      table_.remove_pod_dir(name);
    }
  } else if (added) {
    table_.add_container_link(name);
  } else if (removed) {
    table_.remove_container_link(name);
  }
}

std::shared_ptr<const core::Workload> KubeletNames::find(const k8s::PodIdentity& identity) const {
  return table_.find(identity.pod_uid, identity.runtime ? "" : identity.container_id);
}

int KubeletNames::fd() const {
  for (const Tree& tree : trees_) {
    if (tree.wd >= 0) {
      return inotify_.get();
    }
  }
  return -1;
}

void KubeletNames::run(core::TimePoint /*now*/, bool /*ready*/) {
  if (!inotify_) {
    return;
  }
  ++generation_;      // woken by an event: something may have changed
  bool lost = false;  // events were dropped, or a directory went away: list again
  alignas(inotify_event) std::array<char, 16384> buf;
  for (;;) {
    const ssize_t n = ::read(inotify_.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;  // EAGAIN: nothing more queued
    }
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if ((ev->mask & IN_Q_OVERFLOW) != 0) {
        lost = true;
        continue;
      }
      Tree* tree = tree_of(ev->wd);
      if (tree == nullptr) {
        continue;
      }
      if ((ev->mask & kGoneMask) != 0) {
        // A moved directory keeps its watch but is no longer at its path.
        unwatch(*tree);
        lost = true;
        continue;
      }
      apply(*tree, ev->mask, ev->len > 0 ? std::string_view(ev->name) : std::string_view());
    }
  }
  if (lost) {
    relist();
  }
}

}  // namespace cgmm::app
