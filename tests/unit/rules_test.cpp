#include "core/rules.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace cgmm::core {
namespace {

const Workload kPostgres{"db-main", "postgres-0", "postgres"};

LeafFacts facts(const Workload* w, std::string_view qos = "", std::string_view cgroup = "") {
  return LeafFacts{w, qos, cgroup};
}

RuleMatch by_namespace(std::string pattern) {
  RuleMatch m;
  m.namespace_name = std::move(pattern);
  return m;
}

RuleMatch by_cgroup(std::string pattern) {
  RuleMatch m;
  m.cgroup = std::move(pattern);
  return m;
}

Rule rule(std::string name, RuleMatch match) {
  Rule r;
  r.name = std::move(name);
  r.match = std::move(match);
  return r;
}

TEST(RuleMatch, EachNameKey) {
  const LeafFacts leaf = facts(&kPostgres);
  EXPECT_TRUE(matches(by_namespace("db-main"), leaf));
  EXPECT_FALSE(matches(by_namespace("db-other"), leaf));

  RuleMatch pod;
  pod.pod = "postgres-0";
  EXPECT_TRUE(matches(pod, leaf));
  pod.pod = "postgres-1";
  EXPECT_FALSE(matches(pod, leaf));

  RuleMatch container;
  container.container = "postgres";
  EXPECT_TRUE(matches(container, leaf));
  container.container = "postgres-exporter";
  EXPECT_FALSE(matches(container, leaf));
}

TEST(RuleMatch, NoKeysMatchEverything) {
  EXPECT_TRUE(matches(RuleMatch{}, facts(&kPostgres)));
  EXPECT_TRUE(matches(RuleMatch{}, facts(nullptr)));
}

TEST(RuleMatch, Globs) {
  const LeafFacts leaf = facts(&kPostgres);
  EXPECT_TRUE(matches(by_namespace("db-*"), leaf));
  EXPECT_TRUE(matches(by_namespace("*"), leaf));
  EXPECT_TRUE(matches(by_namespace("db-mai?"), leaf));
  EXPECT_FALSE(matches(by_namespace("db-ma?"), leaf));
  EXPECT_TRUE(matches(by_namespace("db-[lm]ain"), leaf));
  EXPECT_FALSE(matches(by_namespace("db-[ab]ain"), leaf));
  EXPECT_TRUE(matches(by_namespace("db-[!ab]ain"), leaf));
  EXPECT_TRUE(matches(by_namespace("db-[[:lower:]]ain"), leaf));
  EXPECT_FALSE(matches(by_namespace("kube-*"), leaf));
}

TEST(RuleMatch, ALiteralStarNeedsABackslash) {
  const Workload star{"db-*", "p", "c"};
  EXPECT_TRUE(matches(by_namespace("db-\\*"), facts(&star)));
  EXPECT_FALSE(matches(by_namespace("db-\\*"), facts(&kPostgres)));
  EXPECT_TRUE(matches(by_namespace("db-*"), facts(&kPostgres)));
}

TEST(RuleMatch, EveryKeyMustMatch) {
  RuleMatch m;
  m.namespace_name = "db-*";
  m.container = "postgres";
  EXPECT_TRUE(matches(m, facts(&kPostgres)));
  const Workload exporter{"db-main", "postgres-0", "exporter"};
  EXPECT_FALSE(matches(m, facts(&exporter)));
  const Workload elsewhere{"web", "postgres-0", "postgres"};
  EXPECT_FALSE(matches(m, facts(&elsewhere)));

  m.qos = "burstable";
  EXPECT_TRUE(matches(m, facts(&kPostgres, "burstable")));
  EXPECT_FALSE(matches(m, facts(&kPostgres, "guaranteed")));
  m.cgroup = "kubepods/*";
  EXPECT_TRUE(matches(m, facts(&kPostgres, "burstable", "kubepods/burstable/pod1/abc")));
  EXPECT_FALSE(matches(m, facts(&kPostgres, "burstable", "system.slice/x.service")));
}

TEST(RuleMatch, UnknownNamesMatchNoKeyThatNeedsThem) {
  const Workload unknown;
  for (const Workload* w : {static_cast<const Workload*>(nullptr), &unknown}) {
    const LeafFacts leaf = facts(w, "", "system.slice/foo.service");
    EXPECT_FALSE(matches(by_namespace("*"), leaf));
    RuleMatch pod;
    pod.pod = "*";
    EXPECT_FALSE(matches(pod, leaf));
    RuleMatch container;
    container.container = "*";
    EXPECT_FALSE(matches(container, leaf));
    // Only a cgroup key: the path is known everywhere.
    EXPECT_TRUE(matches(by_cgroup("system.slice/*"), leaf));
  }
  // A pod's own cgroup has a namespace and a pod but no container.
  const Workload pod_level{"db-main", "postgres-0", ""};
  EXPECT_TRUE(matches(by_namespace("db-*"), facts(&pod_level)));
  RuleMatch container;
  container.container = "*";
  EXPECT_FALSE(matches(container, facts(&pod_level)));
}

TEST(RuleMatch, Qos) {
  RuleMatch m;
  m.qos = "besteffort";
  EXPECT_TRUE(matches(m, facts(&kPostgres, "besteffort")));
  EXPECT_FALSE(matches(m, facts(&kPostgres, "burstable")));
  // Outside Kubernetes there is no QoS class.
  EXPECT_FALSE(matches(m, facts(nullptr, "", "system.slice/foo.service")));
}

TEST(RuleMatch, CgroupGlobCrossesSlashes) {
  const LeafFacts leaf = facts(nullptr, "", "system.slice/docker-abc.scope/init");
  EXPECT_TRUE(matches(by_cgroup("system.slice/*"), leaf));
  EXPECT_TRUE(matches(by_cgroup("*/init"), leaf));
  EXPECT_TRUE(matches(by_cgroup("*docker-*"), leaf));
  EXPECT_TRUE(matches(by_cgroup("system.slice/docker-abc.scope/init"), leaf));
  EXPECT_FALSE(matches(by_cgroup("system.slice"), leaf));
  EXPECT_FALSE(matches(by_cgroup("user.slice/*"), leaf));
  // `*` matches a leading dot too.
  EXPECT_TRUE(matches(by_cgroup("*"), facts(nullptr, "", ".hidden/x")));
}

TEST(RuleMatch, TheParentItselfMatchesNoCgroupKey) {
  EXPECT_FALSE(matches(by_cgroup("*"), facts(nullptr, "", "")));
}

TEST(GlobError, GoodPatterns) {
  for (const char* good :
       {"db-*", "?", "[ab]", "[!ab]", "[^ab]", "[]a]", "[!]a]", "[a-z]*", "\\*", "\\\\", "a\\[b",
        "[[:digit:]]", "[[:alpha:][:digit:]_]", "[\\]]", "[[.a.]]", "[[=a=]]", "*/*", "a]b"}) {
    EXPECT_EQ(glob_error(good), std::nullopt) << good;
  }
}

TEST(GlobError, BadPatterns) {
  EXPECT_NE(glob_error("")->find("empty"), std::string::npos);
  EXPECT_NE(glob_error("db-[ab")->find("unclosed ["), std::string::npos);
  EXPECT_NE(glob_error("[")->find("unclosed ["), std::string::npos);
  EXPECT_NE(glob_error("[]")->find("unclosed ["), std::string::npos);
  EXPECT_NE(glob_error("[!]")->find("unclosed ["), std::string::npos);
  EXPECT_NE(glob_error("[a\\]")->find("unclosed ["), std::string::npos);
  EXPECT_NE(glob_error("db\\")->find("lone \\"), std::string::npos);
  EXPECT_NE(glob_error("[[:digit]]")->find("unclosed [:"), std::string::npos);
  EXPECT_NE(glob_error("[[:digits:]]")->find("unknown character class [:digits:]"),
            std::string::npos);
}

TEST(Rules, FirstMatchWins) {
  Rules rules({rule("system", by_namespace("kube-system")), rule("db", by_namespace("db-*")),
               rule("all", by_namespace("*"))});
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules.match(facts(&kPostgres))->name, "db");
  const Workload system{"kube-system", "coredns-1", "coredns"};
  EXPECT_EQ(rules.match(facts(&system))->name, "system");
  const Workload web{"web", "nginx-1", "nginx"};
  EXPECT_EQ(rules.match(facts(&web))->name, "all");
}

TEST(Rules, OrderIsTheFilesOrder) {
  Rules rules({rule("all", by_namespace("*")), rule("db", by_namespace("db-*"))});
  EXPECT_EQ(rules.match(facts(&kPostgres))->name, "all");
  ASSERT_EQ(rules.all().size(), 2u);
  EXPECT_EQ(rules.all()[0]->name, "all");
  EXPECT_EQ(rules.all()[1]->name, "db");
}

TEST(Rules, NoMatchIsNull) {
  Rules rules({rule("db", by_namespace("db-*"))});
  EXPECT_EQ(rules.match(facts(nullptr, "", "system.slice/a.service")), nullptr);
  EXPECT_EQ(Rules().match(facts(&kPostgres)), nullptr);
  EXPECT_EQ(Rules().size(), 0u);
}

TEST(Rules, AMatchedRuleOutlivesItsSet) {
  Rule r = rule("db", by_namespace("db-*"));
  r.policy.reclaim = false;
  std::shared_ptr<const Rule> kept;
  {
    Rules rules({std::move(r)});
    kept = rules.match(facts(&kPostgres));
  }
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->name, "db");
  EXPECT_FALSE(kept->policy.reclaim);
}

}  // namespace
}  // namespace cgmm::core
