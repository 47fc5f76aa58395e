// Guest helper for tests/vm: moves itself into a cgroup and writes files there (their page cache
// is charged to that cgroup). The guest has no shared libraries and no clock finer than a second
// in its shell, hence a static binary. Two modes:
//   cgmm_fill_mark CGROUP_DIR FILE MIB MARK_MIB
//     writes one file of MIB MiB as fast as it can and prints the wall-clock time, in
//     milliseconds since the epoch, just before it wrote the byte that took the file past
//     MARK_MIB.
//   cgmm_fill_mark --stream CGROUP_DIR DIR MIB FILE_MIB PAUSE_MS
//     writes MIB MiB as new files of FILE_MIB MiB in DIR (stream-0, stream-1, ...), each synced
//     to disk (clean cache, which reclaim frees at once, as a reader's would be) and followed by
//     a pause of PAUSE_MS ms: a workload that streams through new data at a bounded pace. Prints
//     how long it took, in milliseconds.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

// Small chunks, so the mark is taken close to the byte that crossed.
char block[256 * 1024];

int fail(const char* what) {
  std::fprintf(stderr, "cgmm_fill_mark: %s: %s\n", what, std::strerror(errno));
  return 1;
}

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool join(const char* cgroup_dir) {
  const std::string procs = std::string(cgroup_dir) + "/cgroup.procs";
  const int p = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  const std::string me = std::to_string(::getpid());
  const bool ok = p >= 0 && ::write(p, me.data(), me.size()) == static_cast<ssize_t>(me.size());
  if (p >= 0) {
    ::close(p);
  }
  return ok;
}

int fill_mark(char** argv) {
  const long long total = std::atoll(argv[3]) << 20;
  const long long mark = std::atoll(argv[4]) << 20;
  if (!join(argv[1])) {
    return fail("join the cgroup");
  }
  const int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail("open the file");
  }
  long long marked_ms = -1;
  for (long long written = 0; written < total; written += sizeof block) {
    if (marked_ms < 0 && written + static_cast<long long>(sizeof block) > mark) {
      marked_ms = now_ms();
    }
    if (::write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block)) {
      return fail("write");
    }
  }
  ::close(fd);
  std::printf("%lld\n", marked_ms);
  return 0;
}

int stream(char** argv) {
  const long long total = std::atoll(argv[4]) << 20;
  const long long file_size = std::atoll(argv[5]) << 20;
  const auto pause = std::chrono::milliseconds(std::atoll(argv[6]));
  if (file_size <= 0) {
    std::fprintf(stderr, "cgmm_fill_mark: FILE_MIB must be at least 1\n");
    return 2;
  }
  if (!join(argv[2])) {
    return fail("join the cgroup");
  }
  const long long start = now_ms();
  for (long long n = 0; n * file_size < total; ++n) {
    const std::string path = std::string(argv[3]) + "/stream-" + std::to_string(n);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return fail("open a file");
    }
    for (long long written = 0; written < file_size; written += sizeof block) {
      if (::write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block)) {
        return fail("write");
      }
    }
    if (::fdatasync(fd) != 0) {
      return fail("sync a file");
    }
    ::close(fd);
    std::this_thread::sleep_for(pause);
  }
  std::printf("%lld\n", now_ms() - start);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::memset(block, 'x', sizeof block);
  if (argc == 7 && std::strcmp(argv[1], "--stream") == 0) {
    return stream(argv);
  }
  if (argc == 5) {
    return fill_mark(argv);
  }
  std::fprintf(stderr,
               "usage: %s CGROUP_DIR FILE MIB MARK_MIB\n"
               "       %s --stream CGROUP_DIR DIR MIB FILE_MIB PAUSE_MS\n",
               argv[0], argv[0]);
  return 2;
}
