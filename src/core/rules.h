#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/decide.h"
#include "core/leaf_sample.h"

namespace cgmm::core {

// The QoS classes a `qos` key names, as k8s::to_string spells them.
inline constexpr std::string_view kQosClasses[] = {"guaranteed", "burstable", "besteffort"};

// What a rule asks of a leaf; every key that is set must match. namespace, pod, container and
// cgroup are shell-style globs (fnmatch(3) without FNM_PATHNAME or FNM_PERIOD: `*` and `?` also
// match `/` and a leading `.`; `[...]` is a set, `\` quotes the next character, so a literal `*`
// is `\*`). qos is one of kQosClasses, compared exactly.
struct RuleMatch {
  std::optional<std::string> namespace_name;
  std::optional<std::string> pod;
  std::optional<std::string> container;
  std::optional<std::string> cgroup;  // the path below --parent: "system.slice/foo.service"
  std::optional<std::string> qos;

  bool operator==(const RuleMatch&) const = default;
};

// One rule of a policy file.
struct Rule {
  // Unique in its file. When the file gives none it is "rule N", N the rule's 1-based place in
  // the file, so that logs, metric labels and the report still tell the rules apart.
  std::string name;
  int line = 0;  // 1-based line of the rule in its file
  RuleMatch match;
  // The command-line policy with the rule's settings applied: what a leaf it matches is decided
  // with.
  Policy policy;
};

// What the node says about one leaf, as far as it knows. Every name is empty where it is unknown,
// and an unknown name matches no key that needs it (not even `*`): a namespace key never matches
// a leaf outside Kubernetes, whatever its pattern.
struct LeafFacts {
  const Workload* workload = nullptr;  // null: no names known
  std::string_view qos;                // one of kQosClasses; empty outside Kubernetes
  // The path below --parent ("kubepods/besteffort/pod.../<id>"); empty for the parent itself,
  // which is a leaf only when it has no children and then matches no cgroup key.
  std::string_view cgroup;
};

bool matches(const RuleMatch& match, const LeafFacts& facts);

// Why `pattern` is not a glob that fnmatch(3) would read as written: empty, ends in a lone `\`,
// an unclosed `[` (which fnmatch would silently take as a literal `[`), an unclosed `[:` or an
// unknown class inside a set (`[[:digit:]]` is fine). Empty when the pattern is good; the reason
// is fit to follow the quoted pattern and a colon: `"db-[ab": unclosed [ (...)`.
std::optional<std::string> glob_error(std::string_view pattern);

// The rules of one policy file, in order. Held by shared_ptr so that a leaf can keep the rule it
// was decided with while a reload replaces the set.
class Rules {
 public:
  Rules() = default;
  explicit Rules(std::vector<Rule> rules);

  // The first rule whose match matches the leaf; null when none does, and the leaf takes the
  // command-line policy.
  std::shared_ptr<const Rule> match(const LeafFacts& facts) const;

  size_t size() const { return rules_.size(); }
  const std::vector<std::shared_ptr<const Rule>>& all() const { return rules_; }

 private:
  std::vector<std::shared_ptr<const Rule>> rules_;
};

}  // namespace cgmm::core
