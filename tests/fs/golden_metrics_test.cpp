// The whole /metrics page of the daemon on a fixture tree, compared line by line with
// tests/data/golden-metrics.txt: a change of a family's name, a label, a HELP text or a value
// shows as a diff of that file in review, and dashboards and alerts are written against it.
//
// Regenerate the file after an intended change, and review its diff:
//   CGMM_UPDATE_GOLDEN=1 build/tests/cgmm_fs_tests --gtest_filter='GoldenMetrics.*'
//
// Nothing on the page is left to chance: the daemon runs on a fake clock whose wall clock starts
// at 1700000000 (scans take no time; each reclaim write takes kWriteTakes), every step is
// scripted, and the page is scraped over loopback at a set moment. The one value masked is the
// build's version (cgmm_build_info), written as <version>.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <regex>

#include "app/daemon.h"
#include "cgroup/memory_stat.h"
#include "support/fake_clock.h"
#include "support/fake_waiter.h"
#include "support/http_get.h"
#include "support/kubelet_logs.h"
#include "support/promtool.h"
#include "support/temp_tree.h"

namespace cgmm::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kMiB = 1 << 20;
constexpr int kStopSignal = SIGUSR2;
constexpr milliseconds kWriteTakes{50};
const std::string kGolden = std::string(CGMM_TEST_DATA) + "/golden-metrics.txt";

// The leaves: a named container over its threshold (reclaimed, then reading it back), one bounded
// by its memory.high, one without a limit and one whose memory.stat does not parse.
constexpr const char* kWebUid = "5f3c2b1a-9d8e-4f7a-b6c5-d4e3f2a1b0c9";
constexpr const char* kWebId = "3b1f9e0c7d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
constexpr const char* kApiUid = "0a1b2c3d-1111-4222-8333-444455556666";
constexpr const char* kApiId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr const char* kBrokenId =
    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
constexpr const char* kBatchUid = "8a7b6c5d-4e3f-4a2b-9c1d-0e1f2a3b4c5d";
constexpr const char* kBatchId = "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc";
const std::string kWeb = std::string("kubepods/burstable/pod") + kWebUid + "/" + kWebId;
const std::string kApi = std::string("kubepods/burstable/pod") + kApiUid + "/" + kApiId;
const std::string kBroken = std::string("kubepods/burstable/pod") + kApiUid + "/" + kBrokenId;
const std::string kBatch = std::string("kubepods/besteffort/pod") + kBatchUid + "/" + kBatchId;

// What the fixture's kernel holds of one leaf, written out as its memory.stat and memory.current.
struct LeafMemory {
  uint64_t anon = 20 * kMiB;
  uint64_t file = 0;
  uint64_t inactive_file = 0;
  uint64_t refaulted_pages = 0;
  uint64_t kernel = 10 * kMiB;  // in memory.current, in neither key
};

class GoldenMetrics : public ::testing::Test {
 protected:
  // Runs each job when the loop collects it, on the loop's thread: a worker's timing made fixed.
  // Each memory.reclaim write frees what it asks of the leaf's clean file pages, inactive ones
  // first, and takes kWriteTakes.
  class DeferredRunner final : public app::ReclaimRunner {
   public:
    explicit DeferredRunner(GoldenMetrics& test) : test_(test) {}
    void submit(app::ReclaimJob job) override {
      queued_.push_back(std::move(job));
      [[maybe_unused]] int r = ::eventfd_write(wake_.get(), 1);
    }
    std::vector<core::ReclaimOutcome> take_finished() override {
      eventfd_t count;
      [[maybe_unused]] int r = ::eventfd_read(wake_.get(), &count);
      std::vector<core::ReclaimOutcome> out;
      for (const app::ReclaimJob& job : std::exchange(queued_, {})) {
        out.push_back(app::run_reclaim_job(job, reclaimer_, stopping_, buf_, test_.clock_));
      }
      return out;
    }
    int wake_fd() const override { return wake_.get(); }
    size_t pending() const override { return queued_.size(); }
    void stop() override { queued_.clear(); }

   private:
    GoldenMetrics& test_;
    cgroup::Reclaimer reclaimer_{cgroup::Version::kV2, [this](int dir_fd, uint64_t bytes) {
                                   test_.kernel_reclaim(dir_fd, bytes);
                                 }};
    cgroup::Fd wake_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    std::atomic<bool> stopping_{false};
    std::vector<app::ReclaimJob> queued_;
    std::string buf_;
  };

  GoldenMetrics() {
    tree_.write("kubepods/memory.reclaim", "");
    tree_.write("kubepods/cgroup.controllers", "memory\n");
    limits(std::string("kubepods/burstable/pod") + kWebUid, "1073741824", "max");
    limits(std::string("kubepods/burstable/pod") + kApiUid, "1073741824", "max");
    limits(std::string("kubepods/besteffort/pod") + kBatchUid, "max", "max");
    limits(kWeb, "max", "max");
    limits(kApi, "max", "536870912");  // memory.high: the tighter, a 128 MiB threshold
    limits(kBroken, "max", "max");
    limits(kBatch, "max", "max");
    set(kWeb, {.file = 300 * kMiB, .inactive_file = 240 * kMiB});  // over 256 MiB
    set(kApi, {.file = 50 * kMiB, .inactive_file = 40 * kMiB});
    set(kBatch, {.file = 80 * kMiB, .inactive_file = 70 * kMiB});  // no limit, no threshold
    tree_.write(kBroken + "/memory.stat", "not a memory.stat\n");
    tree_.write(kBroken + "/memory.current", "4096\n");
    logs_.add_container("shop", "web-0", kWebUid, "nginx", kWebId);
    tree_.write("policy.yaml",
                "rules:\n  - name: shop\n    match:\n      namespace: shop\n    cooldown: 25s\n");

    config_.parent = (tree_.root() / "kubepods").string();
    config_.interval = seconds(10);
    config_.listen = obs::ListenAddress{"127.0.0.1", port_};
    config_.pod_logs_dir = logs_.pods_dir();
    config_.container_logs_dir = logs_.containers_dir();
    config_.policy_file = (tree_.root() / "policy.yaml").string();
    config_.log_level = obs::Level::kOff;
  }

  void limits(const std::string& cgroup, const std::string& max, const std::string& high) {
    tree_.write(cgroup + "/memory.max", max + "\n");
    tree_.write(cgroup + "/memory.high", high + "\n");
    tree_.write(cgroup + "/memory.reclaim", "");
  }

  void set(const std::string& leaf, const LeafMemory& m) {
    memory_[leaf] = m;
    tree_.write(leaf + "/memory.stat",
                "anon " + std::to_string(m.anon) + "\nfile " + std::to_string(m.file) +
                    "\nshmem 0\ninactive_file " + std::to_string(m.inactive_file) +
                    "\nactive_file " + std::to_string(m.file - m.inactive_file) +
                    "\nworkingset_refault_file " + std::to_string(m.refaulted_pages) + "\n");
    tree_.write(leaf + "/memory.current", std::to_string(m.anon + m.file + m.kernel) + "\n");
  }

  // A memory.reclaim write to the leaf whose directory is `dir_fd`.
  void kernel_reclaim(int dir_fd, uint64_t bytes) {
    for (auto& [leaf, m] : memory_) {
      struct stat written {};
      struct stat this_leaf {};
      if (::fstat(dir_fd, &written) != 0 ||
          ::stat((tree_.root() / leaf).c_str(), &this_leaf) != 0 ||
          written.st_ino != this_leaf.st_ino) {
        continue;
      }
      LeafMemory after = m;
      const uint64_t freed = std::min(bytes, after.file);
      after.file -= freed;
      after.inactive_file -= std::min(freed, after.inactive_file);
      after.inactive_file = std::min(after.inactive_file, after.file);
      set(leaf, after);
    }
    clock_.advance(kWriteTakes);
  }

  std::string scrape() const {
    auto r = http_get(port_, "/metrics");
    return r && r->status == 200 ? r->body : "no page: " + std::to_string(r ? r->status : 0);
  }

  // Runs the daemon until the stop signal.
  void run() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, kStopSignal);
    obs::setup_logging(config_.log_level, config_.log_format);
    {
      app::SignalFd signals({kStopSignal});
      app::Daemon daemon(config_, tree_.parent("kubepods", cgroup::Version::kV2), signals, clock_,
                         waiter_, runner_);
      EXPECT_EQ(daemon.run(), 0);
    }
    ::pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  }

  TempTree tree_;
  KubeletLogs logs_;
  std::map<std::string, LeafMemory> memory_;
  FakeClock clock_;
  FakeWaiter waiter_{clock_, kStopSignal};
  DeferredRunner runner_{*this};
  const std::uint16_t port_ = free_loopback_port();
  app::Config config_;
};

// The golden file's text: its leading comment block, then the page.
std::string read_golden() {
  std::ifstream in(kGolden);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string golden_page(const std::string& file) {
  size_t at = 0;
  while (file.compare(at, 2, "# ") == 0 && file.compare(at, 7, "# HELP ") != 0 &&
         file.compare(at, 7, "# TYPE ") != 0) {
    at = file.find('\n', at) + 1;
  }
  return file.substr(at);
}

constexpr const char* kHeader =
    "# The /metrics page of tests/fs/golden_metrics_test.cpp's fixture, compared line by line.\n"
    "# Regenerate after an intended change, and review the diff:\n"
    "#   CGMM_UPDATE_GOLDEN=1 build/tests/cgmm_fs_tests --gtest_filter='GoldenMetrics.*'\n"
    "# Times come from a fake clock (wall clock 1700000000 at the start); <version> stands for\n"
    "# the build's version.\n";

TEST_F(GoldenMetrics, ThePageIsTheCheckedInOne) {
  // The first scan reclaims web; web then reads 200 MiB of it back, half the 300 MiB freed and
  // more: the second scan judges that reclaim harmful (a hot cache).
  waiter_.at(seconds(3), [&] {
    set(kWeb, {.file = 200 * kMiB,
               .inactive_file = 50 * kMiB,
               .refaulted_pages = 200 * kMiB / cgroup::page_bytes()});
  });
  std::string page;
  waiter_.at(seconds(15), [&] { page = scrape(); });
  waiter_.at(seconds(16), [&] { ::raise(kStopSignal); });
  run();
  page = std::regex_replace(page, std::regex(R"(cgmm_build_info\{version="[^"]*"\})"),
                            R"(cgmm_build_info{version="<version>"})");

  if (std::getenv("CGMM_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(kGolden) << kHeader << page;
    GTEST_SKIP() << "wrote " << kGolden;
  }
  const std::string golden = read_golden();
  ASSERT_FALSE(golden.empty()) << "no " << kGolden << "; regenerate it (see its test)";
  EXPECT_EQ(golden_page(golden), page)
      << "regenerate " << kGolden << " if the change is intended: see the top of the test";
}

TEST(GoldenMetricsFile, PromtoolAcceptsIt) {
  CGMM_REQUIRE_PROMTOOL();
  const std::string golden = read_golden();
  ASSERT_FALSE(golden.empty()) << "no " << kGolden;
  const PromtoolResult result = promtool_check_metrics(golden);
  EXPECT_EQ(result.exit_code, 0) << "promtool says:\n" << result.output;
  EXPECT_EQ(result.output, "");
}

}  // namespace
}  // namespace cgmm::testing
