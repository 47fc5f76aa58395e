#include "bench_tree.h"

#include <fcntl.h>
#include <fmt/printf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace cgmm::bench {

namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) {
  g_interrupted = true;
}

// A v1 memory.stat as the kernel writes it for an empty cgroup, for fixture trees.
constexpr const char* kFixtureStat =
    "cache 0\nrss 0\nrss_huge 0\nshmem 0\nmapped_file 0\ndirty 0\nwriteback 0\nswap 0\n"
    "pgpgin 0\npgpgout 0\npgfault 0\npgmajfault 0\ninactive_anon 0\nactive_anon 0\n"
    "inactive_file 0\nactive_file 0\nunevictable 0\nhierarchical_memory_limit "
    "9223372036854771712\nhierarchical_memsw_limit 9223372036854771712\ntotal_cache 0\n"
    "total_rss 0\ntotal_rss_huge 0\ntotal_shmem 0\ntotal_mapped_file 0\ntotal_dirty 0\n"
    "total_writeback 0\ntotal_swap 0\ntotal_pgpgin 0\ntotal_pgpgout 0\ntotal_pgfault 0\n"
    "total_pgmajfault 0\ntotal_inactive_anon 0\ntotal_active_anon 0\ntotal_inactive_file 0\n"
    "total_active_file 0\ntotal_unevictable 0\n";

std::string hex(std::mt19937_64& rng, size_t digits) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string s;
  while (s.size() < digits) {
    uint64_t v = rng();
    for (int i = 0; i < 16 && s.size() < digits; ++i, v >>= 4) {
      s.push_back(kDigits[v & 15]);
    }
  }
  return s;
}

std::string uid(std::mt19937_64& rng) {
  std::string h = hex(rng, 32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

}  // namespace

bool interrupted() {
  return g_interrupted;
}

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
}

BenchTree::BenchTree(std::string root, bool fixture) : root_(std::move(root)), fixture_(fixture) {
  if (::mkdir(root_.c_str(), 0755) != 0) {
    fmt::fprintf(stderr, "cannot create %s: %s\n", root_.c_str(), std::strerror(errno));
    std::exit(1);
  }
  make_dir("kubepods");
  make_dir("kubepods/burstable");
}

BenchTree::~BenchTree() {
  remove_all();
}

bool BenchTree::make_dir(const std::string& rel) {
  const std::string path = root_ + "/" + rel;
  if (::mkdir(path.c_str(), 0755) != 0) {
    fmt::fprintf(stderr, "cannot create %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  if (fixture_) {
    int fd =
        ::open((path + "/memory.stat").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return false;
    }
    bool ok = ::write(fd, kFixtureStat, std::strlen(kFixtureStat)) > 0;
    ::close(fd);
    return ok;
  }
  return true;
}

bool BenchTree::add_pod() {
  Pod pod;
  pod.path = "kubepods/burstable/pod" + uid(rng_);
  if (!make_dir(pod.path)) {
    return false;
  }
  pods_.push_back(pod);  // recorded before its containers, so that a failure still cleans up
  for (size_t i = 0; i < kContainersPerPod; ++i) {
    std::string c = pod.path + "/" + hex(rng_, 64);
    if (!make_dir(c)) {
      return false;
    }
    pods_.back().containers.push_back(c);
  }
  return true;
}

bool BenchTree::remove_pod(size_t index) {
  Pod& pod = pods_[index];
  bool ok = true;
  for (const std::string& c : pod.containers) {
    const std::string path = root_ + "/" + c;
    if (fixture_) {
      ::unlink((path + "/memory.stat").c_str());
    }
    ok = ::rmdir(path.c_str()) == 0 && ok;
  }
  if (fixture_) {
    ::unlink((root_ + "/" + pod.path + "/memory.stat").c_str());
  }
  ok = ::rmdir((root_ + "/" + pod.path).c_str()) == 0 && ok;
  pods_[index] = std::move(pods_.back());
  pods_.pop_back();
  return ok;
}

bool BenchTree::grow(size_t leaves) {
  while (this->leaves() < leaves) {
    if (interrupted() || !add_pod()) {
      return false;
    }
  }
  return true;
}

bool BenchTree::churn(size_t pods) {
  for (size_t i = 0; i < pods && !pods_.empty(); ++i) {
    if (!remove_pod(rng_() % pods_.size())) {
      return false;
    }
  }
  for (size_t i = 0; i < pods; ++i) {
    if (!add_pod()) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> BenchTree::leaf_paths() const {
  std::vector<std::string> out;
  for (const Pod& pod : pods_) {
    out.insert(out.end(), pod.containers.begin(), pod.containers.end());
  }
  return out;
}

void BenchTree::remove_all() {
  while (!pods_.empty()) {
    remove_pod(pods_.size() - 1);
  }
  for (const char* rel : {"kubepods/burstable", "kubepods", ""}) {
    std::string path = root_ + (*rel ? "/" : "") + rel;
    if (fixture_) {
      ::unlink((path + "/memory.stat").c_str());
    }
    ::rmdir(path.c_str());
  }
}

}  // namespace cgmm::bench
