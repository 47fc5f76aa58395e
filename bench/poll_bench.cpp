// CPU cost of the cgroup v2 watch between scans (cgroup::UsageWatch) on N quiet leaves, run on
// this host: memory.current stand-ins on tmpfs (one number each, read with pread like the real
// file), the same take()/next_due() loop the daemon's main loop runs, sleeping in between.
// Prints CPU per second of wall time, wake-ups and reads per second, for a few headrooms.
//   cgmm_poll_bench [--leaves N] [--seconds S]
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cgroup/io.h"
#include "cgroup/usage_watch.h"

namespace {

using cgmm::cgroup::UsageWatch;

double cpu_seconds() {
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int leaves = 1000;
  int seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--leaves") == 0) {
      leaves = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--seconds") == 0) {
      seconds = std::atoi(argv[i + 1]);
    }
  }
  const std::filesystem::path root =
      std::filesystem::path("/dev/shm") / ("cgmm-bench-poll-" + std::to_string(::getpid()));
  constexpr uint64_t kMiB = 1 << 20;
  constexpr uint64_t kThreshold = 1024 * kMiB;

  std::printf("%d leaves, %d s each; memory.current stand-ins on tmpfs\n", leaves, seconds);
  std::printf("%12s %12s %14s %12s %16s\n", "headroom", "CPU ms/s", "wake-ups/s", "reads/s",
              "CPU us/leaf/s");
  for (uint64_t headroom_mib : {8, 64, 256, 1024}) {
    std::filesystem::create_directories(root);
    UsageWatch poll(cgmm::cgroup::Version::kV2);
    for (int i = 0; i < leaves; ++i) {
      const auto dir = root / ("c" + std::to_string(i));
      std::filesystem::create_directories(dir);
      std::ofstream(dir / "memory.current") << (kThreshold - headroom_mib * kMiB) << "\n";
      auto st = poll.watch(static_cast<uint64_t>(i) + 1, kThreshold,
                           [&] { return cgmm::cgroup::open_dir_at(AT_FDCWD, dir.c_str()); });
      if (!st) {
        std::fprintf(stderr, "watch failed: %s\n", std::strerror(st.error().err));
        return 1;
      }
    }
    std::vector<uint64_t> fired;
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::seconds(seconds);
    const double cpu_before = cpu_seconds();
    long wakeups = 0;
    for (auto now = start; now < end; now = std::chrono::steady_clock::now()) {
      poll.take(fired, now);
      ++wakeups;
      std::this_thread::sleep_until(std::min(poll.next_due(), end));
    }
    const double cpu = cpu_seconds() - cpu_before;
    // Every leaf is read once per period: the headroom never changes here.
    const double reads = static_cast<double>(leaves) * 1000.0 /
                         static_cast<double>(UsageWatch::period(headroom_mib * kMiB).count());
    std::printf("%9llu MiB %12.2f %14.1f %12.0f %16.3f\n",
                static_cast<unsigned long long>(headroom_mib), cpu * 1000 / seconds,
                static_cast<double>(wakeups) / seconds, reads, cpu * 1e6 / seconds / leaves);
    std::filesystem::remove_all(root);
  }
  return 0;
}
