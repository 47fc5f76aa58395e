// Every bad command-line option and environment value, given to the real binary: it must exit 2
// before doing anything, with a message that names the offending value, so that a typo in a
// DaemonSet is found in the pod's log at once instead of becoming a daemon that does the wrong
// thing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "app/config.h"
#include "support/daemon_process.h"
#include "support/temp_tree.h"

namespace cgmm::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

struct BadInput {
  std::string name;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string quoted;  // must appear in the message
};

void PrintTo(const BadInput& in, std::ostream* os) {
  *os << in.name;
}

// A parent that exists, so that only the value under test is wrong. Nothing gets as far as
// checking that it is a cgroup.
constexpr const char* kParent = "/";

std::vector<BadInput> bad_inputs() {
  const std::string p = kParent;
  return {
      {"threshold_over_100", {"--parent", p, "--threshold", "150%"}, {}, "\"150%\""},
      {"threshold_words", {"--parent", p, "--threshold", "abc%"}, {}, "\"abc%\""},
      {"threshold_negative", {"--parent", p, "--threshold", "-5"}, {}, "\"-5\""},
      {"threshold_zero", {"--parent", p, "--threshold", "0"}, {}, "\"0\""},
      {"threshold_unit", {"--parent", p, "--threshold", "12XB"}, {}, "\"XB\""},
      {"threshold_overflow",
       {"--parent", p, "--threshold", "99999999999999999999"},
       {},
       "\"99999999999999999999\""},
      {"threshold_exponent", {"--parent", p, "--threshold", "1e3%"}, {}, "\"1e3%\""},
      {"threshold_empty", {"--parent", p, "--threshold", ""}, {}, "--threshold"},
      {"interval_zero", {"--parent", p, "--interval", "0ms"}, {}, "\"0ms\""},
      {"interval_negative", {"--parent", p, "--interval", "-1"}, {}, "\"-1\""},
      {"interval_unit", {"--parent", p, "--interval", "10 parsecs"}, {}, "\"parsecs\""},
      {"cooldown_unit", {"--parent", p, "--cooldown", "10x"}, {}, "\"10x\""},
      {"cooldown_overflow",
       {"--parent", p, "--cooldown", "99999999999999999h"},
       {},
       "\"99999999999999999h\""},
      {"log_level", {"--parent", p, "--log-level", "loud"}, {}, "\"loud\""},
      {"log_format", {"--parent", p, "--log-format", "xml"}, {}, "\"xml\""},
      {"listen_words", {"--parent", p, "--listen", "everywhere"}, {}, "everywhere"},
      {"listen_port_zero", {"--parent", p, "--listen", ":0"}, {}, ":0"},
      {"listen_port_range", {"--parent", p, "--listen", "127.0.0.1:70000"}, {}, "70000"},
      {"listen_host_name", {"--parent", p, "--listen", "localhost:9102"}, {}, "localhost"},
      {"output", {"--parent", p, "--output", "yaml"}, {}, "\"yaml\""},
      {"reclaim_target_words", {"--parent", p, "--reclaim-target", "half"}, {}, "\"half\""},
      {"reclaim_target_not_lower",
       {"--parent", p, "--threshold", "25%", "--reclaim-target", "30%"},
       {},
       "\"30%\""},
      {"unknown_option", {"--parent", p, "--no-such-flag"}, {}, "--no-such-flag"},
      {"missing_value", {"--parent", p, "--interval"}, {}, "--interval"},
      {"stray_argument", {"--parent", p, "extra"}, {}, "extra"},
      {"parent_missing", {"--parent", "/nonexistent/cgmm"}, {}, "/nonexistent/cgmm"},
      {"parent_not_cgroup", {"--parent", "/tmp"}, {}, "/tmp"},
      {"parent_on_tmpfs", {"--parent", "/dev/shm"}, {}, "/dev/shm"},
      {"parent_a_file", {"--parent", "/etc/hostname"}, {}, "/etc/hostname"},
      {"env_parent", {}, {"CGMM_PARENT=/nonexistent/env"}, "/nonexistent/env"},
      // A value from the environment is reported under the variable's name.
      {"env_threshold", {"--parent", p}, {"CGMM_THRESHOLD=twenty%"}, "CGMM_THRESHOLD: \"twenty%\""},
      {"env_interval", {"--parent", p}, {"CGMM_INTERVAL=0"}, "CGMM_INTERVAL: \"0\""},
      {"env_cooldown", {"--parent", p}, {"CGMM_COOLDOWN=soon"}, "CGMM_COOLDOWN: \"soon\""},
      {"env_log_level", {"--parent", p}, {"CGMM_LOG_LEVEL=chatty"}, "CGMM_LOG_LEVEL: \"chatty\""},
      {"env_log_format",
       {"--parent", p},
       {"CGMM_LOG_FORMAT=logfmt"},
       "CGMM_LOG_FORMAT: \"logfmt\""},
      {"env_listen", {"--parent", p}, {"CGMM_LISTEN=9102"}, "CGMM_LISTEN: "},
      {"env_output", {"--parent", p}, {"CGMM_OUTPUT=csv"}, "CGMM_OUTPUT: \"csv\""},
      {"env_reclaim_target",
       {"--parent", p},
       {"CGMM_RECLAIM_TARGET=-1"},
       "CGMM_RECLAIM_TARGET: size \"-1\""},
      {"env_once", {"--parent", p}, {"CGMM_ONCE=maybe"}, "CGMM_ONCE: \"maybe\""},
      {"env_dry_run", {"--parent", p}, {"CGMM_DRY_RUN=perhaps"}, "CGMM_DRY_RUN: \"perhaps\""},
      {"env_dry_run_number", {"--parent", p}, {"CGMM_DRY_RUN=2"}, "CGMM_DRY_RUN: \"2\""},
      {"env_exclude_shmem", {"--parent", p}, {"CGMM_EXCLUDE_SHMEM=y"}, "CGMM_EXCLUDE_SHMEM: \"y\""},
      {"env_notifications", {"--parent", p}, {"CGMM_NOTIFICATIONS=x"}, "CGMM_NOTIFICATIONS: \"x\""},
  };
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, ExitsTwoNamingTheValue) {
  const BadInput& in = GetParam();
  RunResult r = run_daemon(in.args, in.env, seconds(20));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(in.quoted));
  EXPECT_THAT(r.err, HasSubstr("cgroup-memory-manager: "));
  // Nothing started: no log line of a running daemon, no report.
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("starting")));
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(Binary, BadInputTest, ::testing::ValuesIn(bad_inputs()),
                         [](const auto& p) { return p.param.name; });

TEST(BadInputBinary, NoParentAndNoDefaultNamesWhatWasTried) {
  for (const std::string& candidate : app::default_parent_candidates()) {
    if (std::filesystem::exists(candidate)) {
      GTEST_SKIP() << candidate << " exists on this machine";
    }
  }
  RunResult r = run_daemon({}, {}, seconds(20));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(app::default_parent_candidates()[0]));
  EXPECT_THAT(r.err, HasSubstr("--parent"));
}

TEST(BadInputBinary, ParentThroughASymlinkIsRefused) {
  TempTree t;
  std::filesystem::create_directory_symlink("/sys/fs/cgroup", t.root() / "cg");
  const std::string link = (t.root() / "cg").string();
  RunResult r = run_daemon({"--parent", link}, {}, seconds(20));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(link));
  EXPECT_THAT(r.err, HasSubstr("symlink"));
}

}  // namespace
}  // namespace cgmm::testing
