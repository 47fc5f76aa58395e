#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

namespace cgmm::app {
namespace {

using std::chrono::milliseconds;

// Runs parse_config on a command line, with a clean CGMM_* / RUST_LOG environment plus `env`.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVars) {
      unsetenv(name);
    }
  }
  void TearDown() override { SetUp(); }

  std::variant<Config, int> parse(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"cgroup-memory-manager"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const std::string& a : all) {
      argv.push_back(a.c_str());
    }
    return parse_config(static_cast<int>(argv.size()), argv.data());
  }

  Config config(const std::vector<std::string>& args) { return std::get<Config>(parse(args)); }

  // The message of the UsageError the command line causes.
  std::string usage_error(const std::vector<std::string>& args) {
    try {
      parse(args);
    } catch (const UsageError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no usage error";
    return "";
  }

  static constexpr const char* kVars[] = {"CGMM_PARENT",
                                          "CGMM_THRESHOLD",
                                          "CGMM_INTERVAL",
                                          "CGMM_COOLDOWN",
                                          "CGMM_ONCE",
                                          "CGMM_DRY_RUN",
                                          "CGMM_LOG_LEVEL",
                                          "CGMM_LOG_FORMAT",
                                          "CGMM_LISTEN",
                                          "CGMM_OUTPUT",
                                          "CGMM_RECLAIM_TARGET",
                                          "CGMM_EXCLUDE_SHMEM",
                                          "CGMM_NOTIFICATIONS",
                                          "CGMM_REFAULT_BACKOFF",
                                          "RUST_LOG"};
};

TEST_F(ConfigTest, Defaults) {
  Config c = config({"--parent", "/x"});
  EXPECT_EQ(c.parent, "/x");
  EXPECT_EQ(c.policy.threshold.to_string(), "25%");
  EXPECT_EQ(c.interval, milliseconds(10'000));
  EXPECT_EQ(c.policy.cooldown, milliseconds(30'000));
  EXPECT_FALSE(c.once);
  EXPECT_FALSE(c.dry_run);
  EXPECT_EQ(c.log_level, obs::Level::kInfo);
  EXPECT_EQ(c.log_format, obs::LogFormat::kText);
  EXPECT_FALSE(c.policy.exclude_shmem);
  EXPECT_TRUE(c.policy.refault_backoff);
}

TEST_F(ConfigTest, ExcludeShmemFromFlagOrEnvironment) {
  EXPECT_TRUE(config({"--parent", "/x", "--exclude-shmem"}).policy.exclude_shmem);
  setenv("CGMM_EXCLUDE_SHMEM", "true", 1);
  EXPECT_TRUE(config({"--parent", "/x"}).policy.exclude_shmem);
  setenv("CGMM_EXCLUDE_SHMEM", "false", 1);
  EXPECT_FALSE(config({"--parent", "/x"}).policy.exclude_shmem);
}

TEST_F(ConfigTest, RefaultBackoffIsOnUnlessTurnedOff) {
  EXPECT_FALSE(config({"--parent", "/x", "--no-refault-backoff"}).policy.refault_backoff);
  setenv("CGMM_REFAULT_BACKOFF", "false", 1);
  EXPECT_FALSE(config({"--parent", "/x"}).policy.refault_backoff);
  EXPECT_TRUE(config({"--parent", "/x", "--refault-backoff"}).policy.refault_backoff);
}

TEST_F(ConfigTest, TheFamiliarCommandLine) {
  Config c = config({"--parent", "/p", "--threshold", "40%", "--interval", "5", "--cooldown", "1m",
                     "--once", "--dry-run", "--log-level", "debug", "--log-format", "json"});
  EXPECT_EQ(c.policy.threshold.bytes_for(1000), 400u);
  EXPECT_EQ(c.interval, milliseconds(5000));
  EXPECT_EQ(c.policy.cooldown, milliseconds(60'000));
  EXPECT_TRUE(c.once);
  EXPECT_TRUE(c.dry_run);
  EXPECT_EQ(c.log_level, obs::Level::kDebug);
  EXPECT_EQ(c.log_format, obs::LogFormat::kJson);
}

TEST_F(ConfigTest, EnvironmentConfiguresAndTheFlagWins) {
  setenv("CGMM_PARENT", "/from-env", 1);
  setenv("CGMM_THRESHOLD", "1GiB", 1);
  setenv("CGMM_INTERVAL", "500ms", 1);
  setenv("CGMM_DRY_RUN", "true", 1);
  setenv("CGMM_LOG_FORMAT", "json", 1);
  Config c = config({"--interval", "2s"});
  EXPECT_EQ(c.parent, "/from-env");
  EXPECT_EQ(c.policy.threshold.bytes_for(std::nullopt), 1ULL << 30);
  EXPECT_EQ(c.interval, milliseconds(2000));
  EXPECT_TRUE(c.dry_run);
  EXPECT_EQ(c.log_format, obs::LogFormat::kJson);
}

TEST_F(ConfigTest, RustLogIsALevelOnlyWhenNoneIsGiven) {
  setenv("RUST_LOG", "debug", 1);
  EXPECT_EQ(config({"--parent", "/x"}).log_level, obs::Level::kDebug);
  EXPECT_EQ(config({"--parent", "/x", "--log-level", "warn"}).log_level, obs::Level::kWarn);
  setenv("CGMM_LOG_LEVEL", "error", 1);
  EXPECT_EQ(config({"--parent", "/x"}).log_level, obs::Level::kError);
}

TEST_F(ConfigTest, UnreadableRustLogIsIgnoredWithAWarning) {
  setenv("RUST_LOG", "cgroup_memory_manager=debug,hyper=info", 1);
  Config c = config({"--parent", "/x"});
  EXPECT_EQ(c.log_level, obs::Level::kInfo);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("RUST_LOG"), std::string::npos);
}

TEST_F(ConfigTest, BadValuesNameTheOptionAndQuoteTheValue) {
  EXPECT_NE(usage_error({"--parent", "/x", "--threshold", "150%"}).find("--threshold"),
            std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--threshold", "abc%"}).find("\"abc%\""),
            std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--threshold", "-5"}).find("\"-5\""), std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--interval", "0"}).find("--interval"),
            std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--interval", "0ms"}).find("\"0ms\""),
            std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--cooldown", "-1"}).find("--cooldown"),
            std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--cooldown", "10x"}).find("\"10x\""),
            std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--log-level", "loud"}).find("\"loud\""),
            std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--log-format", "xml"}).find("\"xml\""),
            std::string::npos);
  EXPECT_NE(usage_error({"--parent", "/x", "--no-such-flag"}).find("--no-such-flag"),
            std::string::npos);
}

TEST_F(ConfigTest, EveryOtherBadValueIsAUsageErrorNamingIt) {
  struct Case {
    std::vector<std::string> args;
    const char* named;
  };
  const Case cases[] = {
      {{"--parent", "/x", "--threshold", "99999999999999999999"}, "\"99999999999999999999\""},
      {{"--parent", "/x", "--threshold", "0"}, "\"0\""},
      {{"--parent", "/x", "--threshold", ""}, "--threshold"},
      {{"--parent", "/x", "--cooldown", "99999999999999999h"}, "\"99999999999999999h\""},
      {{"--parent", "/x", "--interval", "-1"}, "\"-1\""},
      {{"--parent", "/x", "--listen", "everywhere"}, "\"everywhere\""},
      {{"--parent", "/x", "--listen", ":0"}, "--listen"},
      {{"--parent", "/x", "--listen", "127.0.0.1:70000"}, "70000"},
      {{"--parent", "/x", "--listen", "localhost:9102"}, "localhost"},
      {{"--parent", "/x", "--output", "yaml"}, "\"yaml\""},
      {{"--parent", "/x", "--reclaim-target", "half"}, "\"half\""},
      {{"--parent", "/x", "--threshold", "25%", "--reclaim-target", "30%"}, "\"30%\""},
      {{"--parent", "/x", "--threshold", "1GiB", "--reclaim-target", "2GiB"}, "\"2GiB\""},
      {{"--parent", "/x", "--interval"}, "--interval"},
      {{"--parent", "/x", "stray"}, "stray"},
  };
  for (const Case& c : cases) {
    EXPECT_NE(usage_error(c.args).find(c.named), std::string::npos) << c.named;
  }
}

// The user set a variable, not an option: the message names the variable and quotes its value.
TEST_F(ConfigTest, EveryBadEnvironmentValueIsAUsageErrorNamingTheVariable) {
  const std::pair<const char*, const char*> cases[] = {
      {"CGMM_THRESHOLD", "twenty%"}, {"CGMM_INTERVAL", "0"},
      {"CGMM_COOLDOWN", "soon"},     {"CGMM_LOG_LEVEL", "chatty"},
      {"CGMM_LOG_FORMAT", "logfmt"}, {"CGMM_LISTEN", "localhost:9102"},
      {"CGMM_OUTPUT", "csv"},        {"CGMM_RECLAIM_TARGET", "-1"},
      {"CGMM_ONCE", "maybe"},        {"CGMM_DRY_RUN", "2"},
      {"CGMM_DRY_RUN", "perhaps"},   {"CGMM_EXCLUDE_SHMEM", "enable"},
      {"CGMM_NOTIFICATIONS", "x"},   {"CGMM_REFAULT_BACKOFF", "often"},
  };
  for (const auto& [name, value] : cases) {
    SetUp();
    setenv(name, value, 1);
    const std::string message = usage_error({"--parent", "/x"});
    EXPECT_NE(message.find(std::string(name) + ": "), std::string::npos) << message;
    EXPECT_NE(message.find(value), std::string::npos) << message;
    EXPECT_EQ(message.find("--"), std::string::npos) << message;
  }
}

TEST_F(ConfigTest, ABadValueOnTheCommandLineNamesTheOptionEvenWithTheVariableSet) {
  setenv("CGMM_THRESHOLD", "10%", 1);
  const std::string message = usage_error({"--parent", "/x", "--threshold", "abc%"});
  EXPECT_NE(message.find("--threshold: "), std::string::npos) << message;
  EXPECT_EQ(message.find("CGMM_THRESHOLD"), std::string::npos) << message;
}

TEST_F(ConfigTest, TheCommandLineWinsOverABadVariable) {
  setenv("CGMM_THRESHOLD", "twenty%", 1);
  setenv("CGMM_ONCE", "maybe", 1);
  setenv("CGMM_NOTIFICATIONS", "x", 1);
  Config c = config({"--parent", "/x", "--threshold", "20%", "--once", "--no-notifications"});
  EXPECT_EQ(c.policy.threshold.to_string(), "20%");
  EXPECT_TRUE(c.once);
  EXPECT_FALSE(c.notifications);
}

TEST_F(ConfigTest, BooleanVariablesTakeTheUsualWordsInAnyCase) {
  for (const char* yes : {"true", "TRUE", "yes", "on", "1"}) {
    setenv("CGMM_DRY_RUN", yes, 1);
    EXPECT_TRUE(config({"--parent", "/x"}).dry_run) << yes;
  }
  for (const char* no : {"false", "False", "no", "off", "0"}) {
    setenv("CGMM_NOTIFICATIONS", no, 1);
    EXPECT_FALSE(config({"--parent", "/x"}).notifications) << no;
  }
  // Empty is unset, as the other variables: the default stays.
  setenv("CGMM_NOTIFICATIONS", "", 1);
  EXPECT_TRUE(config({"--parent", "/x"}).notifications);
}

TEST_F(ConfigTest, HelpAndVersionExitZero) {
  ::testing::internal::CaptureStdout();
  auto help = parse({"--help"});
  auto version = parse({"--version"});
  std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_TRUE(std::holds_alternative<int>(help));
  EXPECT_EQ(std::get<int>(help), 0);
  EXPECT_EQ(std::get<int>(version), 0);
  for (const char* option : {"--parent", "--threshold", "--interval", "--cooldown", "--once",
                             "--dry-run", "--log-level", "--log-format", "Examples"}) {
    EXPECT_NE(out.find(option), std::string::npos) << option;
  }
  EXPECT_NE(out.find("--once (Env:CGMM_ONCE)"), std::string::npos) << out;
  EXPECT_NE(out.find(CGMM_VERSION), std::string::npos);
}

}  // namespace
}  // namespace cgmm::app

namespace cgmm::app {
namespace {

TEST(DefaultParent, CoversV1AndV2KubernetesLayoutsInOrder) {
  const std::vector<std::string> expected = {
      "/sys/fs/cgroup/memory/kubepods", "/sys/fs/cgroup/memory/kubepods.slice",
      "/sys/fs/cgroup/memory/docker", "/sys/fs/cgroup/kubepods.slice", "/sys/fs/cgroup/kubepods"};
  EXPECT_EQ(default_parent_candidates(), expected);
}

}  // namespace
}  // namespace cgmm::app
