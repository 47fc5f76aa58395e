// The policy file kept in force as a Kubernetes ConfigMap volume updates it: the kubelet writes
// the new files into a fresh timestamped directory and swaps the `..data` symlink to it; the
// file the daemon was given is a symlink through `..data` and never changes itself.
#include "app/policy_watch.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <filesystem>

#include "app/config.h"
#include "support/temp_tree.h"

namespace cgmm::app {
namespace {

namespace fs = std::filesystem;

std::string rule_file(const std::string& name) {
  return "rules:\n  - name: " + name + "\n    match:\n      namespace: db\n    threshold: 80%\n";
}

// Waits up to 5 s for the watch to have something to read, then lets it read it.
void deliver(PolicyWatch& watch) {
  pollfd p{watch.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  watch.run(core::TimePoint{}, true);
}

std::string first_rule(const PolicyWatch& watch) {
  return watch.rules()->size() > 0 ? watch.rules()->all()[0]->name : "";
}

class ConfigMapVolume : public ::testing::Test {
 protected:
  ConfigMapVolume() {
    publish("..2026_12_02_10_00_00.1", rule_file("first"));
    fs::create_symlink("..data/policy.yaml", dir() / "policy.yaml");
  }

  fs::path dir() const { return tree_.root(); }
  std::string path() const { return (dir() / "policy.yaml").string(); }

  // What the kubelet does on an update: a new directory, then ..data swapped to it at once.
  void publish(const std::string& version, const std::string& text) {
    tree_.write(version + "/policy.yaml", text);
    fs::create_symlink(version, dir() / "..data_tmp");
    fs::rename(dir() / "..data_tmp", dir() / "..data");
  }

  testing::TempTree tree_;
  core::Policy defaults_;
  core::SteadyClock clock_;
};

TEST_F(ConfigMapVolume, ASwapOfDataIsReadAsTheNewPolicy) {
  PolicyWatch watch(path(), defaults_, cgroup::Version::kV2, nullptr, clock_);
  ASSERT_EQ(first_rule(watch), "first");
  publish("..2026_12_02_10_01_00.2", rule_file("second"));
  deliver(watch);
  EXPECT_EQ(first_rule(watch), "second");
  EXPECT_EQ(watch.generation(), 1u);
}

TEST_F(ConfigMapVolume, ABrokenUpdateKeepsTheLastGoodRules) {
  PolicyWatch watch(path(), defaults_, cgroup::Version::kV2, nullptr, clock_);
  const core::Rules* before = watch.rules();
  publish("..2026_12_02_10_01_00.2", "rules:\n  - match:\n      nmespace: db\n");
  deliver(watch);
  EXPECT_EQ(watch.rules(), before);
  EXPECT_EQ(first_rule(watch), "first");
  EXPECT_EQ(watch.generation(), 0u);
}

TEST_F(ConfigMapVolume, OtherFilesOfTheDirectoryDoNotReload) {
  PolicyWatch watch(path(), defaults_, cgroup::Version::kV2, nullptr, clock_);
  tree_.write("unrelated.txt", "x");
  pollfd p{watch.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  watch.run(core::TimePoint{}, true);
  EXPECT_EQ(watch.generation(), 0u);
}

TEST(PolicyWatchStart, ABadFileIsAUsageErrorNamingFileAndLine) {
  testing::TempTree tree;
  tree.write("policy.yaml", "rules:\n  - match:\n      nmespace: db\n");
  const std::string path = (tree.root() / "policy.yaml").string();
  try {
    const core::SteadyClock clock;
    PolicyWatch watch(path, core::Policy{}, cgroup::Version::kV2, nullptr, clock);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cgmm::app
