#include "app/policy_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cgmm::app {
namespace {

using std::chrono::milliseconds;

constexpr const char* kFile = "/etc/cgmm/policy.yaml";

// The example of the README, line for line.
constexpr const char* kExample = R"(rules:
  - name: system                 # optional; shown in logs, metrics and the report
    match:
      namespace: kube-system
    reclaim: false               # watched and reported, never reclaimed
  - name: databases
    match:
      namespace: "db-*"          # shell-style globs
      container: postgres
    threshold: 80%
    reclaim-target: 50%          # cgroup v2 only, as on the command line
  - match:
      qos: besteffort            # guaranteed | burstable | besteffort
    threshold: 10%
    cooldown: 2m
  - match:
      cgroup: "system.slice/*"   # glob on the path below --parent, for hosts without Kubernetes
    reclaim: false
)";

core::Policy command_line() {
  core::Policy p;
  p.threshold = core::Threshold::percent(25);
  p.cooldown = std::chrono::seconds(30);
  p.exclude_shmem = true;
  return p;
}

// The message of the PolicyError that parsing `yaml` causes.
std::string error_of(const std::string& yaml, const core::Policy& defaults = command_line()) {
  try {
    parse_policy(yaml, kFile, defaults);
  } catch (const PolicyError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no PolicyError for:\n" << yaml;
  return "";
}

// The message names the file and line and contains every one of `parts`.
void expect_error(const std::string& yaml, int line, const std::vector<std::string>& parts,
                  const core::Policy& defaults = command_line()) {
  const std::string message = error_of(yaml, defaults);
  const std::string where = std::string("policy ") + kFile + ":" + std::to_string(line) + ": ";
  EXPECT_EQ(message.rfind(where, 0), 0u)
      << "expected it to start with " << where << ": " << message;
  for (const std::string& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "expected " << part << " in: " << message;
  }
}

TEST(PolicyFile, TheExampleParsesIntoItsRules) {
  core::Rules rules = parse_policy(kExample, kFile, command_line());
  ASSERT_EQ(rules.size(), 4u);
  const auto& all = rules.all();

  const core::Rule& system = *all[0];
  EXPECT_EQ(system.name, "system");
  EXPECT_EQ(system.line, 2);
  core::RuleMatch m;
  m.namespace_name = "kube-system";
  EXPECT_EQ(system.match, m);
  EXPECT_FALSE(system.policy.reclaim);
  EXPECT_EQ(system.policy.threshold.to_string(), "25%");
  EXPECT_EQ(system.policy.cooldown, milliseconds(30'000));
  EXPECT_TRUE(system.policy.exclude_shmem);
  EXPECT_FALSE(system.policy.reclaim_target);

  const core::Rule& databases = *all[1];
  EXPECT_EQ(databases.name, "databases");
  EXPECT_EQ(databases.line, 6);
  m = {};
  m.namespace_name = "db-*";
  m.container = "postgres";
  EXPECT_EQ(databases.match, m);
  EXPECT_TRUE(databases.policy.reclaim);
  EXPECT_EQ(databases.policy.threshold.to_string(), "80%");
  ASSERT_TRUE(databases.policy.reclaim_target);
  EXPECT_EQ(databases.policy.reclaim_target->to_string(), "50%");
  EXPECT_EQ(databases.policy.cooldown, milliseconds(30'000));
  EXPECT_TRUE(databases.policy.exclude_shmem);

  const core::Rule& besteffort = *all[2];
  EXPECT_EQ(besteffort.name, "rule 3");
  EXPECT_EQ(besteffort.line, 12);
  m = {};
  m.qos = "besteffort";
  EXPECT_EQ(besteffort.match, m);
  EXPECT_EQ(besteffort.policy.threshold.to_string(), "10%");
  EXPECT_EQ(besteffort.policy.cooldown, milliseconds(120'000));
  EXPECT_TRUE(besteffort.policy.reclaim);
  EXPECT_FALSE(besteffort.policy.reclaim_target);

  const core::Rule& hosts = *all[3];
  EXPECT_EQ(hosts.name, "rule 4");
  EXPECT_EQ(hosts.line, 16);
  m = {};
  m.cgroup = "system.slice/*";
  EXPECT_EQ(hosts.match, m);
  EXPECT_FALSE(hosts.policy.reclaim);
  EXPECT_EQ(hosts.policy.threshold.to_string(), "25%");
}

TEST(PolicyFile, TheExampleMatchesLeaves) {
  core::Rules rules = parse_policy(kExample, kFile, command_line());
  const core::Workload coredns{"kube-system", "coredns-1", "coredns"};
  const core::Workload postgres{"db-orders", "orders-0", "postgres"};
  const core::Workload batch{"jobs", "batch-1", "worker"};
  EXPECT_EQ(rules.match({&coredns, "besteffort", "kubepods/besteffort/pod1/a"})->name, "system");
  EXPECT_EQ(rules.match({&postgres, "burstable", "kubepods/burstable/pod2/b"})->name, "databases");
  EXPECT_EQ(rules.match({&batch, "besteffort", "kubepods/besteffort/pod3/c"})->name, "rule 3");
  EXPECT_EQ(rules.match({&batch, "burstable", "kubepods/burstable/pod3/c"}), nullptr);
  EXPECT_EQ(rules.match({nullptr, "", "system.slice/cron.service"})->name, "rule 4");
}

TEST(PolicyFile, SettingsInTheirFormats) {
  core::Rules rules = parse_policy(R"(rules:
  - match: {pod: "web-*"}
    threshold: 512MiB
    reclaim-target: 256MiB
    cooldown: 1.5s
    exclude-shmem: FALSE
    reclaim: True
    refault-backoff: false
  - match: {qos: BestEffort}
    reclaim-target: 10%
)",
                                   kFile, command_line());
  ASSERT_EQ(rules.size(), 2u);
  const core::Policy& p = rules.all()[0]->policy;
  EXPECT_EQ(p.threshold.to_string(), "512.0 MiB");
  EXPECT_EQ(p.reclaim_target->bytes_for(std::nullopt), 256u << 20);
  EXPECT_EQ(p.cooldown, milliseconds(1500));
  EXPECT_FALSE(p.exclude_shmem);
  EXPECT_TRUE(p.reclaim);
  EXPECT_FALSE(p.refault_backoff);
  EXPECT_TRUE(rules.all()[1]->policy.refault_backoff);  // the command line's
  EXPECT_EQ(rules.all()[1]->match.qos, "besteffort");
  EXPECT_EQ(rules.all()[1]->policy.reclaim_target->to_string(), "10%");
}

TEST(PolicyFile, AnEmptyListHasNoRules) {
  EXPECT_EQ(parse_policy("rules: []\n", kFile, command_line()).size(), 0u);
}

TEST(PolicyFile, ASizeAndAPercentageAreComparedPerCgroup) {
  core::Policy defaults = command_line();
  defaults.reclaim_target = core::Threshold::percent(90);
  EXPECT_EQ(
      parse_policy("rules:\n  - match: {pod: a}\n    threshold: 1GiB\n", kFile, defaults).size(),
      1u);
}

TEST(PolicyFileError, YamlSyntax) {
  expect_error("rules:\n  - match:\n      namespace: [db, web\n    reclaim: false\n", 4,
               {"invalid YAML", "end of sequence flow not found", "reclaim: false"});
  expect_error("rules:\n  - match: {pod: a}\n   threshold: 10%\n", 3,
               {"invalid YAML", "threshold: 10%"});
  expect_error("rules: *missing\n", 1, {"invalid YAML", "anchor", "rules: *missing"});
}

TEST(PolicyFileError, TopNotAMap) {
  expect_error("- match: {pod: a}\n", 1, {"expected a map with a \"rules\" list", "the list"});
  expect_error("rules\n", 1, {"expected a map", "not \"rules\""});
  expect_error("", 1, {"the file is empty"});
  expect_error("# nothing yet\n", 1, {"the file is empty"});
}

TEST(PolicyFileError, ASecondDocument) {
  expect_error("rules: []\n---\nrules: []\n", 2, {"a second YAML document"});
  expect_error("# a comment\n---\nrules: []\n---\n", 4, {"a second YAML document"});
}

// yaml-cpp 0.7 reading every document of this text never returns (found by fuzz/run.sh).
TEST(PolicyFileError, TextThatHangsAReaderOfAllDocumentsIsAnErrorAtOnce) {
  expect_error(",ules:\n  - match:\n", 1, {"expected a map"});
}

TEST(PolicyFileError, UnknownTopLevelKey) {
  expect_error("rules: []\nrule:\n  - match: {pod: a}\n", 2,
               {"unknown key \"rule\" at the top level (expected rules)"});
}

TEST(PolicyFileError, RulesMissing) {
  expect_error("{}\n", 1, {"no \"rules\" list"});
}

TEST(PolicyFileError, RulesNotAList) {
  expect_error("rules:\n  match: {pod: a}\n", 2,
               {"\"rules\" must be a list of rules", "the map \"{match: {pod: a}}\""});
  expect_error("rules: none\n", 1, {"\"rules\" must be a list", "not \"none\""});
  expect_error("rules:\n", 1, {"\"rules\" must be a list", "not nothing"});
}

TEST(PolicyFileError, RuleNotAMap) {
  expect_error("rules:\n  - match: {pod: a}\n  - just-a-name\n", 3,
               {"rule 2 must be a map of settings", "\"just-a-name\""});
}

TEST(PolicyFileError, UnknownRuleKey) {
  expect_error(R"(rules:
  - name: system
    match:
      namespace: kube-system
  - name: databases
    match: {namespace: "db-*"}
    treshold: 80%
)",
               7,
               {"unknown key \"treshold\" in rule 2 (expected one of name, match, threshold, "
                "reclaim-target, cooldown, exclude-shmem, reclaim, refault-backoff)"});
}

TEST(PolicyFileError, UnknownMatchKey) {
  expect_error("rules:\n  - match:\n      pod: a\n      namespaces: db\n", 4,
               {"unknown key \"namespaces\" in the match of rule 1",
                "expected one of namespace, pod, container, qos, cgroup"});
}

TEST(PolicyFileError, NoMatchOrAnEmptyOne) {
  expect_error("rules:\n  - name: all\n    threshold: 10%\n", 2,
               {"rule 1 has no match", "match: {cgroup: \"*\"}"});
  expect_error("rules:\n  - name: all\n    match: {}\n", 3, {"match in rule 1 is empty"});
  expect_error("rules:\n  - name: all\n    match:\n    reclaim: false\n", 3,
               {"match in rule 1 is empty"});
  expect_error("rules:\n  - match: kube-system\n", 2,
               {"match in rule 1 must be a map", "not \"kube-system\""});
}

TEST(PolicyFileError, MatchValueNotAScalar) {
  expect_error("rules:\n  - match:\n      namespace: [db, web]\n", 3,
               {"namespace in rule 1 must be a name or a pattern", "the list \"[db, web]\""});
  expect_error("rules:\n  - match:\n      pod:\n", 3, {"pod in rule 1 has no value"});
}

TEST(PolicyFileError, BadGlob) {
  expect_error("rules:\n  - match:\n      namespace: \"db-[ab\"\n", 3,
               {"invalid namespace pattern \"db-[ab\" in rule 1", "unclosed ["});
  expect_error("rules:\n  - match:\n      container: 'db\\'\n", 3,
               {"invalid container pattern \"db\\\" in rule 1", "lone \\"});
  expect_error("rules:\n  - match:\n      pod: \"\"\n", 3,
               {"invalid pod pattern \"\" in rule 1", "empty"});
  expect_error("rules:\n  - match: {pod: a}\n  - match:\n      cgroup: /system.slice/*\n", 4,
               {"invalid cgroup pattern \"/system.slice/*\" in rule 2", "below --parent"});
}

TEST(PolicyFileError, BadQos) {
  expect_error(
      "rules:\n  - match:\n      qos: Burst\n", 3,
      {"invalid qos \"Burst\" in rule 1", "expected one of guaranteed, burstable, besteffort"});
}

TEST(PolicyFileError, BadThreshold) {
  expect_error("rules:\n  - match: {pod: a}\n    threshold: eighty%\n", 3,
               {"invalid threshold in rule 1", "\"eighty%\""});
  expect_error("rules:\n  - match: {pod: a}\n    threshold: 0%\n", 3,
               {"invalid threshold in rule 1", "\"0%\""});
  expect_error("rules:\n  - match: {pod: a}\n    threshold: [80%]\n", 3,
               {"threshold in rule 1 must be N% of the limit or a size", "\"[80%]\""});
}

TEST(PolicyFileError, BadCooldown) {
  expect_error("rules:\n  - match: {pod: a}\n    cooldown: 2 weeks\n", 3,
               {"invalid cooldown in rule 1", "\"2 weeks\""});
}

TEST(PolicyFileError, BadReclaimTarget) {
  expect_error("rules:\n  - match: {pod: a}\n    reclaim-target: half\n", 3,
               {"invalid reclaim-target in rule 1", "\"half\""});
}

TEST(PolicyFileError, ReclaimTargetNotLowerThanTheThreshold) {
  expect_error(
      "rules:\n  - match: {pod: a}\n    threshold: 50%\n    reclaim-target: 60%\n", 4,
      {"invalid reclaim-target \"60%\" in rule 1", "lower than the threshold 50% of the rule"});
  expect_error("rules:\n  - match: {pod: a}\n    reclaim-target: 1GiB\n    threshold: 1GiB\n", 3,
               {"invalid reclaim-target \"1GiB\" in rule 1", "of the rule"});
  // Against the command line's threshold (25%).
  expect_error("rules:\n  - match: {pod: a}\n    reclaim-target: 30%\n", 3,
               {"invalid reclaim-target \"30%\" in rule 1",
                "lower than the threshold 25% from the command line"});
  // The command line's reclaim target against the rule's threshold.
  core::Policy defaults = command_line();
  defaults.reclaim_target = core::Threshold::percent(20);
  expect_error(
      "rules:\n  - match: {pod: a}\n    cooldown: 1m\n    threshold: 10%\n", 4,
      {"invalid threshold \"10%\" in rule 1", "above the reclaim-target 20% from the command line"},
      defaults);
}

TEST(PolicyFileError, BadBoolean) {
  expect_error("rules:\n  - match: {pod: a}\n    reclaim: yes\n", 3,
               {"invalid reclaim \"yes\" in rule 1", "expected true or false", "YAML 1.1"});
  expect_error("rules:\n  - match: {pod: a}\n    exclude-shmem: maybe\n", 3,
               {"invalid exclude-shmem \"maybe\" in rule 1", "expected true or false"});
  expect_error("rules:\n  - match: {pod: a}\n    reclaim: 0\n", 3, {"invalid reclaim \"0\""});
  expect_error("rules:\n  - match: {pod: a}\n    reclaim:\n", 3,
               {"reclaim in rule 1 has no value (expected true or false)"});
}

TEST(PolicyFileError, BadName) {
  expect_error("rules:\n  - name: \"\"\n    match: {pod: a}\n", 2,
               {"invalid name \"\" in rule 1", "non-empty"});
  expect_error("rules:\n  - name: [a]\n    match: {pod: a}\n", 2,
               {"name in rule 1 must be a name", "the list \"[a]\""});
}

TEST(PolicyFileError, DuplicateRuleName) {
  expect_error(R"(rules:
  - name: db
    match: {namespace: "db-*"}
  - name: db
    match: {namespace: "pg-*"}
)",
               4, {"duplicate rule name \"db\" in rule 2 (rule 1 at line 2 has it too)"});
  // A given name may not take the name another rule gets by default.
  expect_error("rules:\n  - name: rule 2\n    match: {pod: a}\n  - match: {pod: b}\n", 4,
               {"duplicate rule name \"rule 2\" in rule 2 (rule 1 at line 2"});
}

TEST(PolicyFileError, DuplicateKey) {
  expect_error("rules:\n  - match: {pod: a}\n    threshold: 10%\n    threshold: 20%\n", 4,
               {"duplicate key \"threshold\" in rule 1 (first at line 3)"});
  expect_error("rules:\n  - match:\n      pod: a\n      pod: b\n", 4,
               {"duplicate key \"pod\" in the match of rule 1 (first at line 3)"});
  expect_error("rules: []\nrules: []\n", 2,
               {"duplicate key \"rules\" at the top level (first at line 1)"});
}

TEST(PolicyFileError, MissingFile) {
  try {
    load_policy("/nonexistent/cgmm/policy.yaml", command_line());
    ADD_FAILURE() << "no PolicyError";
  } catch (const PolicyError& e) {
    EXPECT_STREQ(e.what(),
                 "failed to read policy /nonexistent/cgmm/policy.yaml: No such file or directory");
  }
}

}  // namespace
}  // namespace cgmm::app
