// Guest helper for tests/vm: moves itself into a cgroup, maps and touches MIB MiB of anonymous
// memory (charged to that cgroup), prints "ready BYTES" once every page is resident, and sleeps
// until it is killed. Every 8-byte word holds its own index, so no page is zero-filled or like
// another (kernels treat such pages specially when they swap them out). The guest shell cannot
// hold anonymous memory of a chosen size, and has no shared libraries, hence a static binary.
//   cgmm_hold_anon CGROUP_DIR MIB
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int fail(const char* what) {
  std::fprintf(stderr, "cgmm_hold_anon: %s: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::atoll(argv[2]) <= 0) {
    std::fprintf(stderr, "usage: %s CGROUP_DIR MIB\n", argv[0]);
    return 2;
  }
  const std::string procs = std::string(argv[1]) + "/cgroup.procs";
  const size_t bytes = static_cast<size_t>(std::atoll(argv[2])) << 20;

  const int p = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  const std::string me = std::to_string(::getpid());
  if (p < 0 || ::write(p, me.data(), me.size()) != static_cast<ssize_t>(me.size())) {
    return fail("join the cgroup");
  }
  ::close(p);
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    return fail("map the memory");
  }
  auto* words = static_cast<uint64_t*>(map);
  for (size_t i = 0; i < bytes / sizeof(uint64_t); ++i) {
    words[i] = i + 1;
  }
  std::printf("ready %zu\n", bytes);
  std::fflush(stdout);
  for (;;) {
    ::pause();
  }
}
