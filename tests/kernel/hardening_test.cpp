// The built daemon, as root on real cgroup v1, against what can go wrong around it: clients that
// abuse its metrics listener, and what it may touch on the host. It must never be the cause of an
// incident: it writes nothing but the reclaim file of a leaf below its parent, starts no program,
// and keeps doing its job while the listener is abused.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "support/daemon_process.h"
#include "support/json_log.h"
#include "support/kernel_tree.h"
#include "support/loopback_client.h"

namespace cgmm::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Every client socket gives up after this long, so a listener that holds a connection forever
// fails the test instead of hanging it.
struct Client : LoopbackClient {
  explicit Client(std::uint16_t port) : LoopbackClient(port, seconds(15)) {}
};

// A loopback port nobody listens on right now.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

constexpr const char* kLeaf = "burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11/c1";
constexpr const char* kOther = "burstable/pod1b6f2a4e-0c5d-4c1e-9e2a-3b7f0a9d1c11/c2";

// The default threshold, 25% of the leaves' 100 MiB limit.
constexpr uint64_t kThreshold = 25 * kMiB;

class Hardening : public ::testing::Test {
 protected:
  void SetUp() override {
    CGMM_REQUIRE_KERNEL();
    tree_ = std::make_unique<KernelTree>();
    tree_->make(kLeaf, 100 * kMiB);
    tree_->make(kOther, 100 * kMiB);
  }

  // `leaf`, just filled with 40 MiB written and synced (KernelTree::fill returns after both), is
  // reclaimed by the daemon `d` (--log-format json): a reclaim of it is logged, and its cache in
  // memory.stat goes back under the threshold, where only a reclaim can take it. How far under is
  // not fixed: a scan can find the leaf over its threshold while its writer still writes, and
  // what the writer adds after that reclaim stays as long as it is under the threshold.
  void expect_reclaimed_under_threshold(const DaemonProcess& d, const std::string& leaf) {
    const std::string name = leaf.substr(leaf.rfind('/'));
    EXPECT_TRUE(eventually(
        [&] {
          return !events(d.err(), "reclaim", name).empty() && tree_->cache(leaf) <= kThreshold;
        },
        seconds(30)))
        << leaf << ": cache " << tree_->cache(leaf) << "\n"
        << d.err();
  }

  std::unique_ptr<KernelTree> tree_;
};

// The listener's defaults (src/obs/http_server.h): 16 connections, 8 KiB of head.
constexpr int kMaxConnections = 16;

TEST_F(Hardening, AbusedListenerNeitherStopsTheDaemonNorHoldsConnections) {
  const std::uint16_t port = free_port();
  DaemonProcess d({"--parent", tree_->root(), "--interval", "200ms", "--cooldown", "1s", "--listen",
                   "127.0.0.1:" + std::to_string(port), "--log-format", "json"});
  ASSERT_TRUE(d.wait_for_log("starting", seconds(10))) << d.err();

  // Silent clients, more than the cap, hold every slot they can...
  constexpr int kIdle = 3 * kMaxConnections;
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < kIdle; ++i) {
    idle.push_back(std::make_unique<Client>(port));
  }
  // ...and really do: a client that comes after them is turned away at once, unanswered.
  {
    Client late(port);
    late.send("GET /healthz HTTP/1.1\r\n\r\n");
    bool held = false;
    EXPECT_EQ(late.read_all(&held), "") << "the silent clients did not fill the listener";
    EXPECT_FALSE(held) << "the listener held a connection beyond its cap for 15 s";
  }
  // Meanwhile a leaf goes over its threshold: it is reclaimed all the same.
  tree_->fill(kLeaf, 40);
  expect_reclaimed_under_threshold(d, kLeaf);

  // Every silent connection is let go: beyond the cap at once with nothing, within the cap with
  // a 408 once the request timeout passes. None is held until the client gives up.
  int timed_out_408 = 0;
  for (auto& c : idle) {
    bool held = false;
    const std::string reply = c->read_all(&held);
    EXPECT_FALSE(held) << "the listener held a silent connection for 15 s";
    if (reply.starts_with("HTTP/1.1 408")) {
      ++timed_out_408;
    } else {
      EXPECT_EQ(reply, "");
    }
  }
  EXPECT_LE(timed_out_408, kMaxConnections);
  idle.clear();

  // A client that sends its head a byte at a time never gets a slot for longer than the timeout.
  {
    Client slow(port);
    const std::string head = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    bool cut_off = false;
    for (int i = 0; i < 60 && !cut_off; ++i) {
      cut_off = !slow.send(head.substr(i % head.size(), 1));
      ::usleep(250'000);
    }
    EXPECT_TRUE(cut_off) << "a client dribbling its head kept its connection for 15 s";
    EXPECT_THAT(slow.read_all(), ::testing::AnyOf(StartsWith("HTTP/1.1 408"), ""));
  }

  // Garbage, binary or textual, is a 400; an endless head is a 431; nothing but GET and HEAD.
  std::string binary(2048, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i) {
    binary[i] = static_cast<char>((i * 131 + 7) % 256);
  }
  EXPECT_THAT(Client(port).request(binary + "\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Client(port).request("\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Client(port).request("GET /metrics\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Client(port).request("GET /metrics HTTP/2.0\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Client(port).request("GET http://evil/metrics HTTP/1.1\r\n\r\n"),
              StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Client(port).request(
                  "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(64 * 1024, 'a') + "\r\n\r\n"),
              StartsWith("HTTP/1.1 431"));
  EXPECT_THAT(Client(port).request(std::string(64 * 1024, 'G')), StartsWith("HTTP/1.1 431"));
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"}) {
    const std::string reply = Client(port).request(
        std::string(method) + " /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nreset");
    EXPECT_THAT(reply, StartsWith("HTTP/1.1 405")) << method;
    EXPECT_THAT(reply, HasSubstr("Allow: GET, HEAD")) << method;
  }
  for (const char* path : {"/", "/../../etc/passwd", "/metrics/../healthz", "/metrics/",
                           "/%2e%2e/etc/shadow", "/debug/pprof"}) {
    EXPECT_THAT(Client(port).request("GET " + std::string(path) + " HTTP/1.1\r\n\r\n"),
                StartsWith("HTTP/1.1 404"))
        << path;
  }

  // After all that the daemon still works: it reclaims, and /metrics answers.
  tree_->fill(kOther, 40);
  expect_reclaimed_under_threshold(d, kOther);
  const std::string metrics = Client(port).request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(metrics, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(metrics, HasSubstr("cgmm_scans_total "));
  EXPECT_THAT(metrics, HasSubstr("cgmm_reclaims_total{"));
  const std::string head = Client(port).request("HEAD /healthz HTTP/1.1\r\n\r\n");
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(head, ::testing::EndsWith("\r\n\r\n"));
  EXPECT_TRUE(d.running());
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(seconds(10)), 0) << d.err();
}

// One strace line: "<pid> <syscall>(<args>) = <result>", or a part of one.
struct TracedCall {
  std::string name;
  std::string line;
};

std::vector<TracedCall> read_trace(const std::string& path) {
  std::vector<TracedCall> calls;
  std::ifstream in(path);
  static const std::regex kCall(R"(^\d+\s+([a-z0-9_]+)\()");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, kCall)) {
      calls.push_back({m[1], line});
    }
  }
  return calls;
}

// Runs `args` of the daemon under strace -f (every thread), with paths of file descriptors shown;
// returns the trace's calls and the daemon's exit code.
std::vector<TracedCall> trace_daemon(const std::string& args, int& code) {
  const std::string trace = (std::filesystem::temp_directory_path() /
                             ("cgmm-strace-" + std::to_string(::getpid()) + ".txt"))
                                .string();
  // LeakSanitizer cannot run under ptrace; the other sanitizer settings pass through.
  std::string asan = "detect_leaks=0";
  if (const char* given = std::getenv("ASAN_OPTIONS")) {
    asan = std::string(given) + ":" + asan;
  }
  const std::string command =
      "env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin ASAN_OPTIONS=" + asan +
      " strace -f -y -qq -s 128 -o " + trace +
      " -e trace=open,openat,openat2,creat,truncate,ftruncate,rename,renameat,renameat2,"
      "unlink,unlinkat,mkdir,mkdirat,rmdir,symlink,symlinkat,link,linkat,chmod,fchmod,fchmodat,"
      "chown,fchown,fchownat,lchown,mknod,mknodat,mount,write,writev,pwrite64,pwritev,pwritev2,"
      "execve,execveat,fork,vfork,clone,clone3,kill,tgkill,ptrace " CGMM_BINARY " " +
      args + " >/dev/null 2>&1";
  const int status = std::system(command.c_str());
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto calls = read_trace(trace);
  std::filesystem::remove(trace);
  return calls;
}

TEST_F(Hardening, WritesNothingButReclaimFilesBelowTheParentAndStartsNoProgram) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer's runtime opens files of its own; the ASan build checks this";
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
  GTEST_SKIP() << "ThreadSanitizer's runtime opens files of its own; the ASan build checks this";
#endif
#endif
  if (std::system("command -v strace >/dev/null") != 0) {
    GTEST_FAIL() << "strace is not installed (scripts/test.sh installs it)";
  }
  tree_->fill(kLeaf, 40);
  tree_->fill(kOther, 10);
  int code = -1;
  const auto calls = trace_daemon(
      "--parent " + tree_->root() + " --threshold 25% --once --log-level trace --log-format json",
      code);
  ASSERT_EQ(code, 0);
  ASSERT_FALSE(calls.empty()) << "strace recorded nothing";
  EXPECT_LT(tree_->cache(kLeaf), 5 * kMiB);

  static const std::regex kOpenForWrite(R"(O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND)");
  static const std::regex kReclaimFile(
      R"re(^\d+\s+openat\(\d+<([^>]+)>, "(memory\.force_empty|memory\.reclaim)", O_WRONLY\|)re");
  static const std::regex kWriteFd(
      R"(^\d+\s+(?:write|writev|pwrite64|pwritev2?)\((\d+)(?:<([^>]*)>)?)");
  int execs = 0;
  int reclaim_opens = 0;
  for (const TracedCall& c : calls) {
    if (c.name == "open" || c.name == "openat" || c.name == "openat2" || c.name == "creat") {
      if (!std::regex_search(c.line, kOpenForWrite)) {
        continue;
      }
      std::smatch m;
      ASSERT_TRUE(std::regex_search(c.line, m, kReclaimFile))
          << "opened for writing something that is not a reclaim file: " << c.line;
      EXPECT_THAT(m[1].str() + "/", StartsWith(tree_->root() + "/")) << c.line;
      ++reclaim_opens;
    } else if (c.name == "execve" || c.name == "execveat") {
      ++execs;  // the first is strace starting the daemon
    } else if (c.name == "clone" || c.name == "clone3") {
      EXPECT_THAT(c.line, HasSubstr("CLONE_THREAD")) << "a new process: " << c.line;
    } else if (c.name.starts_with("write") || c.name.starts_with("pwrite")) {
      std::smatch m;
      ASSERT_TRUE(std::regex_search(c.line, m, kWriteFd)) << c.line;
      const int fd = std::stoi(m[1]);
      const std::string target = m[2];
      // stdout, stderr, eventfds, pipes and sockets are fine; a file must be a reclaim file.
      if (fd > 2 && target.starts_with('/')) {
        EXPECT_THAT(target, StartsWith(tree_->root() + "/")) << c.line;
        EXPECT_TRUE(target.ends_with("/memory.force_empty") || target.ends_with("/memory.reclaim"))
            << c.line;
      }
    } else if (c.name == "kill" || c.name == "tgkill") {
      // Only its own threads (the reclaim workers are interrupted at shutdown).
      EXPECT_THAT(c.line, ::testing::Not(HasSubstr("SIGKILL"))) << c.line;
    } else {
      ADD_FAILURE() << "the daemon changed the filesystem or processes: " << c.line;
    }
  }
  EXPECT_EQ(execs, 1) << "the daemon started another program";
  EXPECT_GE(reclaim_opens, 1) << "the over-threshold leaf was not reclaimed through the trace";
}

TEST_F(Hardening, ReclaimTargetOnV1IsAUsageError) {
  RunResult r = run_daemon({"--parent", tree_->root(), "--reclaim-target", "10%"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--reclaim-target"));
  EXPECT_THAT(r.err, HasSubstr("cgroup v2"));
}

TEST(HardeningParent, TmpfsParentIsRefusedWithExitTwo) {
  RunResult r = run_daemon({"--parent", "/dev/shm", "--once"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("/dev/shm"));
  EXPECT_THAT(r.err, HasSubstr("not on a cgroup filesystem"));
}

}  // namespace
}  // namespace cgmm::testing
