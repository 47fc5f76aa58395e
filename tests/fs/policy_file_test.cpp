#include "app/policy_file.h"

#include <gtest/gtest.h>

#include <string>

#include "support/temp_tree.h"

namespace cgmm::app {
namespace {

TEST(LoadPolicy, ReadsTheWholeFile) {
  testing::TempTree tree;
  // Several reads of the loader's 16 KiB buffer.
  std::string yaml = "rules:\n";
  for (int i = 1; i <= 400; ++i) {
    yaml += "  - name: team-" + std::to_string(i) + "\n    match:\n      namespace: \"team-" +
            std::to_string(i) + "-*\"\n    threshold: " + std::to_string(i % 100 + 1) +
            "%\n    cooldown: 1m\n";
  }
  ASSERT_GT(yaml.size(), 2 * 16'384u);
  tree.write("policy.yaml", yaml);
  core::Rules rules = load_policy((tree.root() / "policy.yaml").string(), core::Policy{});
  ASSERT_EQ(rules.size(), 400u);
  EXPECT_EQ(rules.all()[399]->name, "team-400");
  EXPECT_EQ(rules.all()[399]->line, 1 + 399 * 5 + 1);
  EXPECT_EQ(rules.all()[399]->policy.cooldown, std::chrono::minutes(1));
  EXPECT_EQ(rules.all()[399]->policy.threshold.to_string(), "1%");
}

TEST(LoadPolicy, AParseErrorNamesThePath) {
  testing::TempTree tree;
  tree.write("policy.yaml", "rules:\n  - match: {pod: a}\n    treshold: 10%\n");
  const std::string path = (tree.root() / "policy.yaml").string();
  try {
    load_policy(path, core::Policy{});
    ADD_FAILURE() << "no PolicyError";
  } catch (const PolicyError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("policy " + path + ":3: unknown key \"treshold\"", 0), 0u)
        << e.what();
  }
}

TEST(LoadPolicy, ADirectoryIsNotAPolicy) {
  testing::TempTree tree;
  const std::string path = tree.root().string();
  try {
    load_policy(path, core::Policy{});
    ADD_FAILURE() << "no PolicyError";
  } catch (const PolicyError& e) {
    EXPECT_EQ(std::string(e.what()), "failed to read policy " + path + ": Is a directory");
  }
}

}  // namespace
}  // namespace cgmm::app
