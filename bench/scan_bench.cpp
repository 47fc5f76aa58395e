// CPU per leaf per scan of the daemon's scan (LeafScanner + Tracker) against the kernel's floor
// (one pread of each leaf's memory.stat on fds kept open), on a kubepods-like tree of real
// cgroups or of plain directories (--fixture). CPU is user+system time from getrusage.
// Usage: cgmm_scan_bench --leaves N [--fixture] [--rss-only | --cpu-only] [--scans S]
//        [--churn-rounds R] [--csv FILE]
// $CGMM_DAEMON names another daemon binary to measure (by default the one built here).
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/printf.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "bench_tree.h"
#include "cgroup/fd.h"
#include "cgroup/hierarchy.h"
#include "cgroup/leaf_scan.h"
#include "core/tracker.h"

namespace cgmm::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  size_t leaves = 1000;
  bool fixture = false;
  int scans = 0;  // 0: chosen from the tree size
  int churn_rounds = 10;
  double churn = 0.01;
  bool rss_only = false;  // only the daemon process: start, resident set with and without --listen
  bool cpu_only = false;  // only the scan's CPU, not the daemon process
  std::string csv;
};

double cpu_seconds() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long status_kib(pid_t pid, const char* key) {
  std::string path = "/proc/";
  path += std::to_string(pid);
  path += "/status";
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      return std::strtol(line.c_str() + std::strlen(key) + 1, nullptr, 10);
    }
  }
  return -1;
}

// The floor: one pread of each memory.stat on fds opened once. When fds are short, the floor is
// measured on as many leaves as fit; it is a per-leaf cost.
double floor_us(const std::string& root, const std::vector<std::string>& leaves, int scans) {
  std::vector<cgroup::Fd> fds;
  for (const std::string& l : leaves) {
    std::string path = root;
    path.append("/").append(l).append("/memory.stat");
    cgroup::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      break;
    }
    fds.push_back(std::move(fd));
  }
  std::array<char, 8192> buf{};
  const double start = cpu_seconds();
  for (int s = 0; s < scans && !interrupted(); ++s) {
    for (const cgroup::Fd& fd : fds) {
      if (::pread(fd.get(), buf.data(), buf.size(), 0) <= 0) {
        fmt::fprintf(stderr, "floor: read failed: %s\n", std::strerror(errno));
      }
    }
  }
  return (cpu_seconds() - start) * 1e6 / static_cast<double>(fds.size() * scans);
}

// open+read+close of each memory.stat by its path below the root, for reference.
double open_read_us(const std::string& root, const std::vector<std::string>& leaves, int scans) {
  cgroup::Fd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::array<char, 8192> buf{};
  const double start = cpu_seconds();
  for (int s = 0; s < scans && !interrupted(); ++s) {
    for (const std::string& l : leaves) {
      cgroup::Fd fd(::openat(root_fd.get(), (l + "/memory.stat").c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd || ::read(fd.get(), buf.data(), buf.size()) <= 0) {
        fmt::fprintf(stderr, "open+read: failed: %s\n", std::strerror(errno));
      }
    }
  }
  return (cpu_seconds() - start) * 1e6 / static_cast<double>(leaves.size() * scans);
}

// The daemon's scan step: what Daemon::scan does before logging and dispatching.
struct DaemonScan {
  DaemonScan(const cgroup::Parent& parent, cgroup::LeafScanOptions options)
      : scanner(parent, options), tracker(core::Policy{}, true) {}
  size_t once() {
    scanner.scan(samples);
    auto r = tracker.observe(samples, Clock::now());
    return r.decisions.size();
  }
  cgroup::LeafScanner scanner;
  core::Tracker tracker;
  std::vector<core::LeafSample> samples;
};

// A loopback port free right now, for the daemon's --listen.
std::string free_port() {
  cgroup::Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!sock || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "127.0.0.1:9477";
  }
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

struct Resident {
  double first_scan_ms = -1;
  long early_rss_kib = -1;  // 3.5 s after start, while thresholds are still being registered
  double settle_s = -1;     // from start until the open descriptors stopped changing
  long rss_kib = -1;        // then
  long hwm_kib = -1;
};

struct DaemonRun {
  double first_scan_ms = -1;  // from fork to the first scan's log line
  double once_cpu_ms = -1;    // CPU of a whole --once run: start, one scan, report
  Resident plain;
  Resident listen;  // with --listen, nothing scraping
};

// The daemon measured: $CGMM_DAEMON (e.g. an older build, for a comparison) or the one built here.
const char* daemon_binary() {
  const char* env = std::getenv("CGMM_DAEMON");
  return env != nullptr && *env != '\0' ? env : CGMM_BINARY;
}

// Open descriptors of `pid`.
long open_fds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

// Starts the real daemon on the tree (--interval 1s, a size threshold so that every leaf gets a
// memory threshold registered), times its first scan, reads its resident memory 3.5 s later,
// and again once its registrations are done: each holds one eventfd and takes the kernel about
// 10 ms, so the daemon is done when its count of open descriptors has not changed for 5 s
// (bounded at 10 minutes). With `listen`, metrics are served on a loopback port but nothing
// scrapes them.
Resident daemon_resident(const std::string& parent, bool listen) {
  Resident run;
  const std::string address = free_port();
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    fmt::fprintf(stderr, "daemon: pipe: %s\n", std::strerror(errno));
    return run;
  }
  const auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    if (listen) {
      ::execl(daemon_binary(), daemon_binary(), "--parent", parent.c_str(), "--dry-run",
              "--interval", "1s", "--threshold", "1GiB", "--log-format", "json", "--listen",
              address.c_str(), nullptr);
    } else {
      ::execl(daemon_binary(), daemon_binary(), "--parent", parent.c_str(), "--dry-run",
              "--interval", "1s", "--threshold", "1GiB", "--log-format", "json", nullptr);
    }
    std::_Exit(127);
  }
  ::close(pipe_fds[1]);
  std::string out;
  std::array<char, 4096> buf{};
  const auto deadline = start + std::chrono::seconds(30);
  while (Clock::now() < deadline && !interrupted()) {
    pollfd p{pipe_fds[0], POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    ssize_t n = ::read(pipe_fds[0], buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    out.append(buf.data(), static_cast<size_t>(n));
    if (run.first_scan_ms < 0 && out.find("scan_first") != std::string::npos) {
      run.first_scan_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      break;
    }
  }
  if (run.first_scan_ms < 0) {
    fmt::fprintf(stderr, "daemon: no first scan; it said:\n%s\n", out.c_str());
  } else {
    const auto drain = [&] {
      pollfd p{pipe_fds[0], POLLIN, 0};
      while (::poll(&p, 1, 0) > 0 && ::read(pipe_fds[0], buf.data(), buf.size()) > 0) {
      }
    };
    // A few more scans, so that the resident set holds a steady state.
    for (int i = 0; i < 35 && !interrupted(); ++i) {
      ::usleep(100'000);
      drain();
    }
    run.early_rss_kib = status_kib(pid, "VmRSS:");
    long fds = open_fds(pid);
    auto changed = Clock::now();
    const auto settle_deadline = Clock::now() + std::chrono::minutes(10);
    while (Clock::now() - changed < std::chrono::seconds(5) && Clock::now() < settle_deadline &&
           !interrupted()) {
      ::usleep(500'000);
      drain();
      if (const long now = open_fds(pid); now != fds) {
        fds = now;
        changed = Clock::now();
      }
    }
    run.settle_s = std::chrono::duration<double>(changed - start).count();
    run.rss_kib = status_kib(pid, "VmRSS:");
    run.hwm_kib = status_kib(pid, "VmHWM:");
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  ::close(pipe_fds[0]);
  return run;
}

// The daemon process: resident set without and with --listen, and the CPU of a --once run.
DaemonRun run_daemon(const std::string& parent) {
  DaemonRun run;
  run.plain = daemon_resident(parent, false);
  run.first_scan_ms = run.plain.first_scan_ms;
  if (!interrupted()) {
    run.listen = daemon_resident(parent, true);
  }

  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(daemon_binary(), daemon_binary(), "--parent", parent.c_str(), "--dry-run", "--once",
            "--threshold", "100%", nullptr);
    std::_Exit(127);
  }
  struct rusage ru {};
  if (::wait4(pid, nullptr, 0, &ru) == pid) {
    run.once_cpu_ms = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                      static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  }
  return run;
}

void print_resident(const DaemonRun& proc) {
  for (const auto& [what, r] :
       {std::pair{"  daemon process", &proc.plain}, std::pair{"  with --listen", &proc.listen}}) {
    fmt::printf(
        "%s: resident %ld KiB 3.5 s after start; %ld KiB (peak %ld KiB) once its registrations "
        "were done, %.0f s after start\n",
        what, r->early_rss_kib, r->rss_kib, r->hwm_kib, r->settle_s);
  }
}

int run(const Args& args) {
  const std::string base = args.fixture ? "/dev/shm" : "/sys/fs/cgroup/memory";
  const std::string root = base + "/cgmm-bench-" + std::to_string(::getpid());
  BenchTree tree(root, args.fixture);
  auto t0 = Clock::now();
  if (!tree.grow(args.leaves)) {
    fmt::fprintf(stderr, "could not build the tree\n");
    return 1;
  }
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const int scans =
      args.scans > 0 ? args.scans : static_cast<int>(std::max<size_t>(5, 100'000 / args.leaves));
  const auto paths = tree.leaf_paths();

  auto opened = cgroup::open_parent(root);
  cgroup::Parent parent;
  if (auto* p = std::get_if<cgroup::Parent>(&opened)) {
    parent = std::move(*p);
  } else if (args.fixture) {
    parent.path = root;
    parent.name = root.substr(root.rfind('/') + 1);
    parent.fd.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    struct stat st {};
    ::fstat(parent.fd.get(), &st);
    parent.dev = st.st_dev;
  } else {
    fmt::fprintf(stderr, "%s\n", std::get<cgroup::ParentError>(opened).message.c_str());
    return 1;
  }

  if (args.rss_only) {
    const DaemonRun proc = run_daemon(root);
    fmt::printf("\ncgroup v1 tree, %zu leaves: start to first scan %.1f ms wall\n", args.leaves,
                proc.first_scan_ms);
    print_resident(proc);
    return interrupted() ? 130 : 0;
  }

  const auto n = static_cast<double>(args.leaves);
  const long rss_before = status_kib(::getpid(), "VmRSS:");
  auto owned = std::make_unique<DaemonScan>(parent, cgroup::LeafScanOptions{});
  DaemonScan& daemon = *owned;
  auto f0 = Clock::now();
  double c0 = cpu_seconds();
  daemon.scanner.scan(daemon.samples);
  const long scanner_kib = status_kib(::getpid(), "VmRSS:") - rss_before;
  daemon.tracker.observe(daemon.samples, Clock::now());
  const double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - f0).count();
  const double first_us = (cpu_seconds() - c0) * 1e6 / n;
  if (daemon.samples.size() != args.leaves) {
    fmt::fprintf(stderr, "scan found %zu leaves, expected %zu\n", daemon.samples.size(),
                 args.leaves);
  }
  // Steady state, interleaved with the floor so that both see the same machine.
  double steady_us = 0, floor = 0;
  for (int rep = 0; rep < 3; ++rep) {
    floor += floor_us(root, paths, scans) / 3;
    c0 = cpu_seconds();
    for (int s = 0; s < scans && !interrupted(); ++s) {
      daemon.once();
    }
    steady_us += (cpu_seconds() - c0) * 1e6 / (n * scans) / 3;
  }
  const long both_kib = status_kib(::getpid(), "VmRSS:") - rss_before;

  // After changes: each round replaces 1% of the leaves (whole pods), then scans once.
  const size_t churn_pods =
      std::max<size_t>(1, static_cast<size_t>(n * args.churn) / BenchTree::kContainersPerPod);
  double churn_cpu = 0;
  for (int r = 0; r < args.churn_rounds && !interrupted(); ++r) {
    if (!tree.churn(churn_pods)) {
      fmt::fprintf(stderr, "churn failed\n");
      return 1;
    }
    c0 = cpu_seconds();
    daemon.once();
    churn_cpu += cpu_seconds() - c0;
  }
  const double churn_us = churn_cpu * 1e6 / (n * args.churn_rounds);
  const double per_changed_us = (churn_cpu / args.churn_rounds - steady_us * n / 1e6) * 1e6 /
                                static_cast<double>(2 * churn_pods * BenchTree::kContainersPerPod);

  const cgroup::LeafScanCounters c = daemon.scanner.counters();
  owned.reset();  // its kept fds would leave the references (and the daemon's pipe) short

  // References: open+read+close, and the scanner listing every directory on every scan.
  const auto paths_now = tree.leaf_paths();
  const double open_read = open_read_us(root, paths_now, std::max(3, scans / 4));
  cgroup::LeafScanOptions listing;
  listing.watch = false;
  const int list_scans = std::max(3, scans / 4);
  double listing_us = 0;
  {
    DaemonScan lister(parent, listing);
    lister.once();
    c0 = cpu_seconds();
    for (int s = 0; s < list_scans && !interrupted(); ++s) {
      lister.once();
    }
    listing_us = (cpu_seconds() - c0) * 1e6 / (n * list_scans);
  }

  DaemonRun proc;
  if (!args.fixture && !args.cpu_only && !interrupted()) {
    proc = run_daemon(root);
  }
  if (interrupted()) {
    fmt::fprintf(stderr, "interrupted\n");
    return 130;
  }

  fmt::printf("\n%s tree, %zu leaves (%zu directories), built in %.1f s; %d scans a measure\n",
              args.fixture ? "fixture" : "cgroup v1", args.leaves, c.dirs, build_s, scans);
  fmt::printf("  kernel floor (pread on kept fds)      %8.2f us/leaf/scan\n", floor);
  fmt::printf("  daemon, steady state                  %8.2f us/leaf/scan  %.2fx floor\n",
              steady_us, steady_us / floor);
  fmt::printf(
      "  daemon, after 1%% replaced             %8.2f us/leaf/scan  %.2fx floor"
      "  (%.1f us per changed leaf)\n",
      churn_us, churn_us / floor, per_changed_us);
  fmt::printf("  daemon, first scan (full walk)        %8.2f us/leaf       %.1f ms wall\n",
              first_us, first_ms);
  fmt::printf("  open+read+close of memory.stat        %8.2f us/leaf/scan  %.2fx floor\n",
              open_read, open_read / floor);
  fmt::printf("  listing every directory every scan    %8.2f us/leaf/scan  %.2fx floor\n",
              listing_us, listing_us / floor);
  fmt::printf("  kept fds %zu of budget %zu; unwatched dirs %zu; full walks %llu\n", c.kept_fds,
              c.fd_budget, c.unwatched_dirs, static_cast<unsigned long long>(c.full_walks));
  fmt::printf("  resident growth: scanner and samples %ld KiB, with the tracker %ld KiB\n",
              scanner_kib, both_kib);
  if (!args.fixture && !args.cpu_only) {
    fmt::printf("  daemon process: start to first scan %.1f ms wall (--once: %.1f ms CPU)\n",
                proc.first_scan_ms, proc.once_cpu_ms);
    print_resident(proc);
  }
  if (!args.csv.empty()) {
    std::ofstream csv(args.csv, std::ios::app);
    csv << (args.fixture ? "fixture" : "cgroup") << ' ' << args.leaves << ' ' << floor << ' '
        << steady_us << ' ' << churn_us << ' ' << open_read << ' ' << listing_us << ' ' << first_ms
        << ' ' << proc.first_scan_ms << ' ' << proc.once_cpu_ms << ' ' << proc.plain.rss_kib << ' '
        << proc.listen.rss_kib << ' ' << proc.plain.early_rss_kib << ' '
        << proc.listen.early_rss_kib << '\n';
  }
  return 0;
}

}  // namespace
}  // namespace cgmm::bench

int main(int argc, char** argv) {
  cgmm::bench::Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--leaves") {
      args.leaves = std::stoul(next());
    } else if (a == "--fixture") {
      args.fixture = true;
    } else if (a == "--scans") {
      args.scans = std::stoi(next());
    } else if (a == "--churn-rounds") {
      args.churn_rounds = std::stoi(next());
    } else if (a == "--rss-only") {
      args.rss_only = true;
    } else if (a == "--cpu-only") {
      args.cpu_only = true;
    } else if (a == "--csv") {
      args.csv = next();
    } else {
      fmt::fprintf(stderr,
                   "usage: %s --leaves N [--fixture] [--rss-only | --cpu-only] [--scans S] "
                   "[--churn-rounds R] "
                   "[--csv F]\n",
                   argv[0]);
      return 2;
    }
  }
  args.leaves -= args.leaves % cgmm::bench::BenchTree::kContainersPerPod;
  cgmm::bench::install_interrupt_handlers();
  return cgmm::bench::run(args);
}
