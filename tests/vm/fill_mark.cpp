// Guest helper for tests/vm: moves itself into a cgroup, writes a file there (its page cache is
// charged to that cgroup) and prints the wall-clock time, in milliseconds since the epoch, just
// before it wrote the byte that took the file past a mark. The guest has no shared libraries and
// no clock finer than a second in its shell, hence a static binary.
//   cgmm_fill_mark CGROUP_DIR FILE MIB MARK_MIB
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "cgmm_fill_mark: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s CGROUP_DIR FILE MIB MARK_MIB\n", argv[0]);
    return 2;
  }
  const std::string procs = std::string(argv[1]) + "/cgroup.procs";
  const long long total = std::atoll(argv[3]) << 20;
  const long long mark = std::atoll(argv[4]) << 20;

  const int p = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  const std::string me = std::to_string(::getpid());
  if (p < 0 || ::write(p, me.data(), me.size()) != static_cast<ssize_t>(me.size())) {
    return fail("join the cgroup");
  }
  ::close(p);
  const int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail("open the file");
  }
  // Small chunks, so the mark is taken close to the byte that crossed.
  static char block[256 * 1024];
  std::memset(block, 'x', sizeof block);
  long long marked_ms = -1;
  for (long long written = 0; written < total; written += sizeof block) {
    if (marked_ms < 0 && written + static_cast<long long>(sizeof block) > mark) {
      marked_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    }
    if (::write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block)) {
      return fail("write");
    }
  }
  ::close(fd);
  std::printf("%lld\n", marked_ms);
  return 0;
}
