// The daemon's whole loop on a temp-dir cgroup v2 tree, with a fake clock and a fake wait: scan,
// decide, dispatch, finish, the watch between scans, the recheck when a cooldown ends, and stop.
// No kernel and no sleeps: the wait moves the clock, and a reclaim "frees" cache by rewriting the
// fixture's memory.stat before the daemon reads it back.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <functional>
#include <map>

#include "app/daemon.h"
#include "support/fake_clock.h"
#include "support/fake_waiter.h"
#include "support/json_log.h"
#include "support/temp_tree.h"

namespace cgmm::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;

constexpr uint64_t kMiB = 1 << 20;
constexpr int kStopSignal = SIGUSR2;

// The fixture's kernel: each memory.reclaim write, recorded as the real one makes it, frees what
// it asks of the leaf's clean file pages, in memory.stat and memory.current alike.
class FixtureKernel {
 public:
  void operator()(int dir_fd, uint64_t bytes) const {
    const uint64_t file = stat_file(dir_fd);
    const uint64_t freed = std::min(bytes, file);
    write_at(dir_fd, "memory.stat",
             "anon 20971520\nfile " + std::to_string(file - freed) + "\nshmem 0\n");
    write_at(dir_fd, "memory.current", std::to_string(file - freed + 20 * kMiB) + "\n");
  }

 private:
  static std::string read_at(int dir_fd, const char* name) {
    std::string text(4096, '\0');
    const int fd = ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    const ssize_t n = fd < 0 ? 0 : ::read(fd, text.data(), text.size());
    if (fd >= 0) {
      ::close(fd);
    }
    text.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return text;
  }
  static void write_at(int dir_fd, const char* name, const std::string& text) {
    const int fd = ::openat(dir_fd, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd >= 0) {
      [[maybe_unused]] ssize_t n = ::write(fd, text.data(), text.size());
      ::close(fd);
    }
  }
  static uint64_t stat_file(int dir_fd) {
    const std::string text = read_at(dir_fd, "memory.stat");
    const size_t at = text.find("\nfile ");
    return at == std::string::npos ? 0 : std::stoull(text.substr(at + 6));
  }
};

// Runs each job at once on the loop's thread, the way a worker does, with the fixture's kernel.
class InlineRunner final : public app::ReclaimRunner {
 public:
  explicit InlineRunner(const FakeClock& clock) : clock_(clock) {}

  struct Submitted {
    std::string cgroup;
    core::Duration at;  // since the start of the test
    uint64_t target_bytes;
  };

  void submit(app::ReclaimJob job) override {
    submitted_.push_back({job.name,
                          std::chrono::duration_cast<core::Duration>(clock_.now() - start_),
                          job.target_bytes});
    finished_.push_back(app::run_reclaim_job(job, reclaimer_, stopping_, buf_, clock_));
    [[maybe_unused]] int r = ::eventfd_write(wake_.get(), 1);
  }
  std::vector<core::ReclaimOutcome> take_finished() override {
    eventfd_t count;
    [[maybe_unused]] int r = ::eventfd_read(wake_.get(), &count);
    return std::exchange(finished_, {});
  }
  int wake_fd() const override { return wake_.get(); }
  size_t pending() const override { return 0; }
  void stop() override { stopped_ = true; }

  const std::vector<Submitted>& submitted() const { return submitted_; }
  bool stopped() const { return stopped_; }

 private:
  const FakeClock& clock_;
  const core::TimePoint start_ = clock_.now();
  cgroup::Reclaimer reclaimer_{cgroup::Version::kV2, FixtureKernel{}};
  cgroup::Fd wake_{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  std::atomic<bool> stopping_{false};
  std::vector<core::ReclaimOutcome> finished_;
  std::vector<Submitted> submitted_;
  std::string buf_;
  bool stopped_ = false;
};

class DaemonLoop : public ::testing::Test {
 protected:
  DaemonLoop() {
    tree_.write("kubepods/memory.reclaim", "");
    tree_.write("kubepods/cgroup.controllers", "memory\n");
    for (const char* leaf : {"a", "b"}) {
      tree_.write(path(leaf) + "/memory.max", std::to_string(1024 * kMiB) + "\n");
      tree_.write(path(leaf) + "/memory.reclaim", "");
      set_cache(leaf, 0);
    }
    config_.parent = (tree_.root() / "kubepods").string();
    config_.interval = seconds(10);
    config_.policy.cooldown = seconds(25);  // 25% of 1 GiB: a 256 MiB threshold
    config_.log_format = obs::LogFormat::kJson;
    config_.log_level = obs::Level::kDebug;
  }

  static std::string path(const std::string& leaf) { return "kubepods/" + leaf; }

  // The leaf's page cache, and its usage with 20 MiB besides.
  void set_cache(const std::string& leaf, uint64_t bytes) {
    tree_.write(path(leaf) + "/memory.stat",
                "anon 20971520\nfile " + std::to_string(bytes) + "\nshmem 0\n");
    tree_.write(path(leaf) + "/memory.current", std::to_string(bytes + 20 * kMiB) + "\n");
  }

  // Runs the daemon until the stop signal; returns its JSON log.
  std::string run() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, kStopSignal);
    obs::setup_logging(config_.log_level, config_.log_format);
    ::testing::internal::CaptureStderr();
    int code = -1;
    {
      app::SignalFd signals({kStopSignal});
      app::Daemon daemon(config_, tree_.parent("kubepods", cgroup::Version::kV2), signals, clock_,
                         waiter_, runner_);
      code = daemon.run();
    }
    const std::string log = ::testing::internal::GetCapturedStderr();
    ::pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
    EXPECT_EQ(code, 0);
    return log;
  }

  TempTree tree_;
  FakeClock clock_;
  FakeWaiter waiter_{clock_, kStopSignal};
  InlineRunner runner_{clock_};
  app::Config config_;
};

TEST_F(DaemonLoop, ScansDecidesReclaimsWatchesRechecksAndStops) {
  set_cache("a", 300 * kMiB);  // over the threshold from the start
  set_cache("b", 10 * kMiB);
  // Between scans, b fills past its threshold: only the watch can see it before the next scan.
  waiter_.at(seconds(3), [&] { set_cache("b", 280 * kMiB); });
  // a fills again inside its cooldown: held back, and looked at again when the cooldown ends.
  waiter_.at(seconds(5), [&] { set_cache("a", 300 * kMiB); });
  waiter_.at(seconds(40), [&] { ::raise(kStopSignal); });

  const std::string log = run();

  std::vector<std::pair<std::string, core::Duration>> reclaims;
  for (const auto& s : runner_.submitted()) {
    reclaims.emplace_back(s.cgroup, s.at);
  }
  EXPECT_THAT(reclaims,
              ElementsAre(std::pair<std::string, core::Duration>("kubepods/a", seconds(0)),
                          // the watch reads b at most a second after it crossed
                          ::testing::Pair("kubepods/b", ::testing::Le(seconds(4))),
                          // the cooldown of a ends 25 s after its first reclaim, before the
                          // scan at 30 s
                          std::pair<std::string, core::Duration>("kubepods/a", seconds(25))))
      << log;
  EXPECT_EQ(runner_.submitted().front().target_bytes, 300 * kMiB);
  // Asked in steps (each half of what remains, the last one whole), file pages only.
  EXPECT_THAT(tree_.read(path("a") + "/memory.reclaim"), ::testing::HasSubstr(" swappiness=0"));

  const auto finished = events(log, "reclaim");
  ASSERT_EQ(finished.size(), 3u) << log;
  EXPECT_EQ(finished[0]["cgroup"], "kubepods/a");
  EXPECT_EQ(finished[0]["freed_bytes"], 300 * kMiB);
  EXPECT_EQ(finished[0]["cache_after_bytes"], 0);
  EXPECT_EQ(finished[0]["result"], "done");
  EXPECT_GE(finished[0]["steps"], 8);  // 150, 75, 37.5, ... MiB down to the last 2 MiB
  EXPECT_LE(finished[0]["steps"], 12);
  EXPECT_EQ(events(log, "scan_first").size(), 1u);
  EXPECT_EQ(events(log, "signal").size(), 1u);
  EXPECT_EQ(events(log, "stop").size(), 1u);
  EXPECT_TRUE(runner_.stopped());
}

TEST_F(DaemonLoop, WithoutNotificationsACrossingWaitsForTheNextScan) {
  config_.notifications = false;
  set_cache("b", 10 * kMiB);
  waiter_.at(seconds(3), [&] { set_cache("b", 280 * kMiB); });
  waiter_.at(seconds(15), [&] { ::raise(kStopSignal); });

  const std::string log = run();

  ASSERT_EQ(runner_.submitted().size(), 1u) << log;
  EXPECT_EQ(runner_.submitted()[0].cgroup, "kubepods/b");
  EXPECT_EQ(runner_.submitted()[0].at, seconds(10));
}

TEST_F(DaemonLoop, OncePassReclaimsWaitsForTheOutcomeAndReports) {
  config_.once = true;
  config_.output = app::Config::Output::kJson;
  set_cache("a", 300 * kMiB);
  ::testing::internal::CaptureStdout();
  const std::string log = run();
  const auto report = nlohmann::json::parse(::testing::internal::GetCapturedStdout());
  ASSERT_EQ(runner_.submitted().size(), 1u) << log;
  ASSERT_EQ(report["cgroups"].size(), 2u) << report.dump();
  for (const auto& row : report["cgroups"]) {
    if (row["cgroup"] == "kubepods/a") {
      EXPECT_EQ(row["action"], "reclaim");
      EXPECT_EQ(row["freed_bytes"], 300 * kMiB) << report.dump();
    } else {
      EXPECT_EQ(row["reason"], "below threshold");
    }
  }
}

}  // namespace
}  // namespace cgmm::testing
