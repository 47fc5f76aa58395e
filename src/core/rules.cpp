#include "core/rules.h"

#include <fnmatch.h>

#include <algorithm>
#include <utility>
#include <variant>

namespace cgmm::core {

namespace {

// The classes of `[[:name:]]` that POSIX defines; glibc's fnmatch matches nothing with any other.
constexpr std::string_view kCharClasses[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
                                             "lower", "print", "punct", "space", "upper", "xdigit"};

// With the position just after a `[`, the position just after its closing `]`, or the reason
// there is none. Follows glibc's fnmatch: a leading `!` or `^` negates, a `]` right after them is
// a member, `\` quotes the next character, `[:`, `[.` and `[=` open a class, collating element or
// equivalence class that runs to `:]`, `.]` or `=]`.
std::variant<size_t, std::string> skip_set(std::string_view p, size_t i) {
  if (i < p.size() && (p[i] == '!' || p[i] == '^')) {
    ++i;
  }
  if (i < p.size() && p[i] == ']') {
    ++i;
  }
  while (i < p.size()) {
    const char c = p[i];
    if (c == ']') {
      return i + 1;
    }
    if (c == '\\') {
      i += 2;
      continue;
    }
    if (c == '[' && i + 1 < p.size() && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
      const char kind = p[i + 1];
      const std::string close = {kind, ']'};
      const size_t end = p.find(close, i + 2);
      if (end == std::string_view::npos) {
        return "unclosed [" + std::string(1, kind) + " (a class is written [:digit:] inside a set)";
      }
      const std::string_view name = p.substr(i + 2, end - (i + 2));
      if (kind == ':' && std::find(std::begin(kCharClasses), std::end(kCharClasses), name) ==
                             std::end(kCharClasses)) {
        return "unknown character class [:" + std::string(name) +
               ":] (expected alnum, alpha, blank, cntrl, digit, graph, lower, print, punct, "
               "space, upper or xdigit)";
      }
      i = end + 2;
      continue;
    }
    ++i;
  }
  return std::string("unclosed [ (write \\[ for a literal one)");
}

// fnmatch needs terminated strings; both are short names.
bool glob_matches(const std::string& pattern, std::string_view name) {
  return ::fnmatch(pattern.c_str(), std::string(name).c_str(), 0) == 0;
}

// A key that is not set matches everything; one that is set never matches an unknown name.
bool key_matches(const std::optional<std::string>& pattern, std::string_view name) {
  return !pattern || (!name.empty() && glob_matches(*pattern, name));
}

}  // namespace

std::optional<std::string> glob_error(std::string_view pattern) {
  if (pattern.empty()) {
    return "empty pattern (write \"*\" for any name)";
  }
  size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size()) {
        return R"(ends in a lone \ (write \\ for a literal one))";
      }
      i += 2;
    } else if (c == '[') {
      auto end = skip_set(pattern, i + 1);
      if (const std::string* why = std::get_if<std::string>(&end)) {
        return *why;
      }
      i = std::get<size_t>(end);
    } else {
      ++i;
    }
  }
  return std::nullopt;
}

bool matches(const RuleMatch& match, const LeafFacts& facts) {
  static const Workload kUnknown;
  const Workload& w = facts.workload ? *facts.workload : kUnknown;
  return key_matches(match.namespace_name, w.namespace_name) && key_matches(match.pod, w.pod) &&
         key_matches(match.container, w.container) && key_matches(match.cgroup, facts.cgroup) &&
         (!match.qos || (!facts.qos.empty() && *match.qos == facts.qos));
}

Rules::Rules(std::vector<Rule> rules) {
  rules_.reserve(rules.size());
  for (Rule& rule : rules) {
    rules_.push_back(std::make_shared<const Rule>(std::move(rule)));
  }
}

std::shared_ptr<const Rule> Rules::match(const LeafFacts& facts) const {
  for (const std::shared_ptr<const Rule>& rule : rules_) {
    if (matches(rule->match, facts)) {
      return rule;
    }
  }
  return nullptr;
}

}  // namespace cgmm::core
