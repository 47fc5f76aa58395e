#include "support/kernel_tree.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cgmm::testing {

namespace {

constexpr uint64_t kPageBytes = 4096;
constexpr const char* kMemoryRoot = "/sys/fs/cgroup/memory";

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  if (!out) {
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  }
}

}  // namespace

std::string kernel_unavailable_reason() {
  if (::geteuid() != 0) {
    return "not root: the real-kernel tests create cgroups";
  }
  struct statfs fs {};
  if (::statfs(kMemoryRoot, &fs) != 0 || fs.f_type != CGROUP_SUPER_MAGIC ||
      ::access((std::string(kMemoryRoot) + "/memory.stat").c_str(), F_OK) != 0) {
    return std::string("no cgroup v1 memory hierarchy at ") + kMemoryRoot;
  }
  if (::access(kMemoryRoot, W_OK) != 0) {
    return std::string(kMemoryRoot) + " is not writable";
  }
  return "";
}

KernelTree::KernelTree() {
  static int counter = 0;
  const std::string id = std::to_string(::getpid()) + "-" + std::to_string(counter++);
  root_ = std::string(kMemoryRoot) + "/cgmm-test-" + id;
  // Page cache that reclaim can free must live on a disk filesystem, not tmpfs.
  scratch_ = "/var/tmp/cgmm-test-" + id;
  std::filesystem::create_directories(scratch_);
  if (::mkdir(root_.c_str(), 0755) != 0) {
    throw std::runtime_error("cannot create " + root_ + ": " + std::strerror(errno));
  }
}

KernelTree::~KernelTree() {
  for (const std::string& f : shm_files_) {
    ::unlink(f.c_str());
  }
  // Children first. rmdir of a v1 memory cgroup with charged pages moves the charge up.
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    ::rmdir(it->c_str());
  }
  ::rmdir(root_.c_str());
  std::error_code ec;
  std::filesystem::remove_all(scratch_, ec);
}

void KernelTree::make(const std::string& rel, uint64_t limit_bytes) {
  std::string current = root_;
  std::stringstream parts(rel);
  std::string part;
  while (std::getline(parts, part, '/')) {
    current += "/" + part;
    if (::mkdir(current.c_str(), 0755) == 0) {
      made_.push_back(current);
    } else if (errno != EEXIST) {
      throw std::runtime_error("cannot create " + current + ": " + std::strerror(errno));
    }
  }
  if (limit_bytes > 0) {
    write_file(current + "/memory.limit_in_bytes", std::to_string(limit_bytes));
  }
}

std::string KernelTree::fill(const std::string& rel, uint64_t mib) {
  std::string file = next_file();
  fill_file(rel, file, mib * kMiB);
  return file;
}

void KernelTree::read(const std::string& rel, const std::string& file) {
  run_in(rel, "reader", [&] {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return 4;
    }
    static char block[256 * 1024];
    ssize_t n = 0;
    while ((n = ::read(fd, block, sizeof block)) > 0) {
    }
    ::close(fd);
    return n == 0 ? 0 : 5;
  });
}

void KernelTree::fill_over(const std::string& rel, uint64_t threshold_bytes) {
  uint64_t now = cache(rel);
  if (threshold_bytes < kOverBy || now > threshold_bytes - kOverBy) {
    throw std::runtime_error(rel + " has " + std::to_string(now) +
                             " bytes of cache, too close to its threshold of " +
                             std::to_string(threshold_bytes) + " to cross it with a last write");
  }
  const uint64_t under = threshold_bytes - kOverBy;
  // v1 memory.stat counts every page of a fresh file written here at once, so one fill normally
  // lands on `under` (whole pages: a few bytes over it at most). More rounds make up for pages
  // the kernel took back meanwhile.
  for (int round = 0; now < under; ++round) {
    if (round == 3) {
      throw std::runtime_error(rel + " keeps losing its page cache while it is filled");
    }
    fill_file(rel, next_file(), (under - now + kPageBytes - 1) / kPageBytes * kPageBytes);
    now = cache(rel);
  }
  fill_file(rel, next_file(), threshold_bytes + kOverBy - now);
}

void KernelTree::fill_shm(const std::string& rel, uint64_t mib) {
  const std::string file =
      "/dev/shm/" + root_.substr(root_.rfind('/') + 1) + "-" + std::to_string(files_++);
  shm_files_.push_back(file);
  fill_file(rel, file, mib * kMiB);
}

void KernelTree::remove(const std::string& rel) {
  const std::string p = path(rel);
  if (::rmdir(p.c_str()) != 0) {
    throw std::runtime_error("cannot remove " + p + ": " + std::strerror(errno));
  }
  std::erase(made_, p);
}

std::chrono::system_clock::time_point KernelTree::fill_marking(const std::string& rel, uint64_t mib,
                                                               uint64_t mark_bytes) {
  return fill_file(rel, next_file(), mib * kMiB, mark_bytes);
}

std::chrono::system_clock::time_point KernelTree::fill_file(const std::string& rel,
                                                            const std::string& file, uint64_t bytes,
                                                            uint64_t mark_bytes) {
  int mark_pipe[2];
  if (::pipe2(mark_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  try {
    run_in(rel, "filler", [&] {
      int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) {
        return 4;
      }
      // Small chunks, so the mark is taken close to the byte that crossed.
      static char block[256 * 1024];
      std::memset(block, 'x', sizeof block);
      uint64_t written = 0;
      bool marked = mark_bytes == 0;
      while (written < bytes) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof block, bytes - written));
        if (::write(fd, block, n) != static_cast<ssize_t>(n)) {
          return 5;
        }
        written += n;
        if (!marked && written > mark_bytes) {
          marked = true;
          int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
          if (::write(mark_pipe[1], &ns, sizeof ns) != sizeof ns) {
            return 6;
          }
        }
      }
      ::fsync(fd);
      ::close(fd);
      return 0;
    });
  } catch (...) {
    ::close(mark_pipe[0]);
    ::close(mark_pipe[1]);
    throw;
  }
  ::close(mark_pipe[1]);
  int64_t ns = 0;
  const bool have_mark = ::read(mark_pipe[0], &ns, sizeof ns) == sizeof ns;
  ::close(mark_pipe[0]);
  if (mark_bytes > 0 && !have_mark) {
    throw std::runtime_error("filler for " + rel + " never went over its mark");
  }
  return std::chrono::system_clock::time_point(std::chrono::nanoseconds(ns));
}

void KernelTree::run_in(const std::string& rel, const char* what,
                        const std::function<int()>& body) {
  const std::string procs = path(rel) + "/cgroup.procs";
  pid_t pid = ::fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    // The child moves itself into the cgroup, so the pages it touches are charged there.
    std::string me = std::to_string(::getpid());
    FILE* p = std::fopen(procs.c_str(), "w");
    if (!p || std::fputs(me.c_str(), p) < 0 || std::fclose(p) != 0) {
      ::_exit(3);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(std::string(what) + " for " + rel + " failed with status " +
                             std::to_string(status));
  }
}

uint64_t KernelTree::stat(const std::string& rel, const std::string& key) const {
  std::ifstream in(path(rel) + "/memory.stat");
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) {
      return v;
    }
  }
  throw std::runtime_error("no " + key + " in memory.stat of " + rel);
}

}  // namespace cgmm::testing
