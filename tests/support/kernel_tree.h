#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace cgmm::testing {

inline constexpr uint64_t kMiB = 1024 * 1024;

// The least page cache a leaf the daemon left alone still holds of the `mib` MiB written to it.
// A reclaim by the daemon empties a v1 leaf (under 5 MiB is left); on a loaded host the kernel's
// own reclaim may take some of any cgroup's cache, so "left alone" is "still holds half".
constexpr uint64_t left_alone(uint64_t mib) {
  return mib * kMiB / 2;
}

// Why the real-kernel tests cannot run here (not root, no writable cgroup v1 memory hierarchy),
// or empty when they can.
std::string kernel_unavailable_reason();

// Skips the test with the reason, or fails it when the CI environment variable is set: in CI
// these tests must run.
#define CGMM_REQUIRE_KERNEL()                                                           \
  do {                                                                                  \
    if (std::string why = ::cgmm::testing::kernel_unavailable_reason(); !why.empty()) { \
      if (std::getenv("CI")) {                                                          \
        FAIL() << "real-kernel test cannot run in CI: " << why;                         \
      }                                                                                 \
      GTEST_SKIP() << why;                                                              \
    }                                                                                   \
  } while (0)

// A tree of real cgroups under /sys/fs/cgroup/memory/cgmm-test-<pid>-<n>, and page cache made in
// them by short-lived child processes writing files to a scratch directory on disk. Everything is
// removed on destruction (children first), also when the test failed.
class KernelTree {
 public:
  KernelTree();
  ~KernelTree();
  KernelTree(const KernelTree&) = delete;
  KernelTree& operator=(const KernelTree&) = delete;

  // The absolute path of the tree's root cgroup, to pass as --parent.
  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }

  // Creates cgroup `rel` (and missing parents), with a memory limit when `limit_bytes` > 0.
  void make(const std::string& rel, uint64_t limit_bytes = 0);

  // Writes `mib` MiB of fresh, synced file data from a process inside cgroup `rel`, so that much
  // clean page cache is charged to it. Each call writes a new file. A daemon running meanwhile
  // may reclaim part of it while the rest is still being written: see fill_over. Returns the
  // file's path.
  std::string fill(const std::string& rel, uint64_t mib);

  // Reads `file` whole from a process inside cgroup `rel`: what of it is not in the page cache is
  // read from disk and charged to `rel`, and counted as refaults where the kernel evicted it
  // recently (memory.stat workingset_refault_file).
  void read(const std::string& rel, const std::string& file);

  // Takes cgroup `rel` over `threshold_bytes` of cache with its last write only, for a daemon
  // that is running: synced fills first bring it to kOverBy under the threshold, where there is
  // nothing to reclaim, then one final synced write of at most kLastWriteBytes takes it kOverBy
  // over. A reclaim set off by the crossing can race only that last write, so it leaves at most
  // kLastWriteBytes behind however the writer is scheduled, where a reclaim racing a whole fill
  // leaves whatever the writer adds after it. `rel` must be at least kOverBy under the threshold.
  static constexpr uint64_t kOverBy = kMiB;
  static constexpr uint64_t kLastWriteBytes = 2 * kOverBy;
  void fill_over(const std::string& rel, uint64_t threshold_bytes);

  // Like fill, and returns the writer's own clock at the moment its written total first went over
  // `mark_bytes`, that is when the cgroup's cache crossed that level.
  std::chrono::system_clock::time_point fill_marking(const std::string& rel, uint64_t mib,
                                                     uint64_t mark_bytes);

  // Writes `mib` MiB to a new file in /dev/shm from a process inside cgroup `rel`: shmem, which
  // reclaim cannot free without swap. The file is removed with the tree.
  void fill_shm(const std::string& rel, uint64_t mib);

  // Removes cgroup `rel` now (it must have no children and no tasks).
  void remove(const std::string& rel);

  // memory.stat of cgroup `rel`: the value of `key`.
  uint64_t stat(const std::string& rel, const std::string& key) const;
  uint64_t cache(const std::string& rel) const { return stat(rel, "cache"); }

 private:
  std::string root_;
  std::string scratch_;
  std::vector<std::string> made_;  // in creation order
  std::vector<std::string> shm_files_;
  // Writes `bytes` to `file` from a process inside `rel`, synced. Returns the writer's clock when
  // its total went over `mark_bytes` (0: no mark, epoch).
  std::chrono::system_clock::time_point fill_file(const std::string& rel, const std::string& file,
                                                  uint64_t bytes, uint64_t mark_bytes = 0);
  // Runs `body` in a child process inside cgroup `rel`; throws naming `what` unless it returns 0.
  void run_in(const std::string& rel, const char* what, const std::function<int()>& body);
  std::string next_file() { return scratch_ + "/fill-" + std::to_string(files_++); }
  int files_ = 0;
};

}  // namespace cgmm::testing
