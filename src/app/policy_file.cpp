#include "app/policy_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cgroup/fd.h"
#include "core/units.h"

namespace cgmm::app {

namespace {

constexpr std::string_view kRuleKeys[] = {"name",           "match",          "threshold",
                                          "reclaim-target", "cooldown",       "exclude-shmem",
                                          "reclaim",        "refault-backoff"};
constexpr std::string_view kMatchKeys[] = {"namespace", "pod", "container", "qos", "cgroup"};
// YAML 1.1 booleans that YAML 1.2 readers (and yamllint) take for strings.
constexpr std::string_view kYaml11Booleans[] = {"yes", "no", "on", "off", "y", "n"};

constexpr const char* kDefaultNameHint = "; a rule without a name is named rule N";

// Longer texts are cut in messages: the line number finds the rest.
constexpr size_t kMaxQuoted = 60;

std::string quoted(std::string_view text) {
  if (text.size() > kMaxQuoted) {
    return "\"" + std::string(text.substr(0, kMaxQuoted)) + "...\"";
  }
  return "\"" + std::string(text) + "\"";
}

std::string one_of(std::span<const std::string_view> words) {
  std::string s;
  for (std::string_view w : words) {
    s += (s.empty() ? "" : ", ") + std::string(w);
  }
  return s;
}

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_one_of(std::string_view word, std::span<const std::string_view> words) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// What a node holds, quoted for a message: "\"text\"", "nothing", "the list [a, b]".
std::string describe(const YAML::Node& node) {
  if (node.IsScalar()) {
    return quoted(node.Scalar());
  }
  if (!node.IsSequence() && !node.IsMap()) {
    return "nothing";
  }
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  out.SetMapFormat(YAML::Flow);
  out << node;
  return (node.IsSequence() ? "the list " : "the map ") + quoted(out.c_str());
}

// 1-based; 0 when yaml-cpp has no position (the null node of an empty document).
int line_of(const YAML::Node& node) {
  return node.Mark().is_null() ? 0 : node.Mark().line + 1;
}

// One key and value of a map.
struct Entry {
  std::string key;
  YAML::Node value;
  int key_line = 0;
  // Where the value is. An empty value has the position of the token after it, so it is then the
  // key's line.
  int line() const { return value.IsNull() || line_of(value) == 0 ? key_line : line_of(value); }
};

// The 1-based line of a "---" that starts a second document: one after any content. 0 for none.
int second_document_line(std::string_view yaml) {
  bool content = false;
  int line = 0;
  while (!yaml.empty()) {
    const size_t eol = yaml.find('\n');
    const std::string_view text = yaml.substr(0, eol);
    yaml.remove_prefix(eol == std::string_view::npos ? yaml.size() : eol + 1);
    ++line;
    const bool marker = text.starts_with("---") && (text.size() == 3 || text[3] == ' ');
    if (marker && content) {
      return line;
    }
    const size_t first = text.find_first_not_of(" \t\r");
    if (!marker && first != std::string_view::npos && text[first] != '#' && text[first] != '%') {
      content = true;
    }
  }
  return 0;
}

class PolicyParser {
 public:
  PolicyParser(std::string_view file_name, const core::Policy& defaults)
      : file_name_(file_name), defaults_(defaults) {}

  core::Rules parse(std::string_view yaml) const {
    // One document is read. yaml-cpp 0.7's LoadAll, which would read them all, can loop for ever
    // on malformed text (",ules:\n  - match:\n"), so a second document is found by its marker.
    YAML::Node top;
    try {
      top = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      fail(e.mark.is_null() ? 0 : e.mark.line + 1, syntax_error(yaml, e));
    }
    if (const int second = second_document_line(yaml); second > 0) {
      fail(second, "a second YAML document; a policy file holds one");
    }
    if (top.IsNull()) {
      fail(1, "the file is empty (expected a map with a \"rules\" list)");
    }
    if (!top.IsMap()) {
      fail(line_of(top), "expected a map with a \"rules\" list, not " + describe(top));
    }
    std::optional<Entry> rules;
    for (Entry& e : entries(top, "at the top level")) {
      if (e.key != "rules") {
        fail(e.key_line, "unknown key " + quoted(e.key) + " at the top level (expected rules)");
      }
      rules = std::move(e);
    }
    if (!rules) {
      fail(line_of(top), "no \"rules\" list at the top level");
    }
    if (!rules->value.IsSequence()) {
      fail(rules->line(), "\"rules\" must be a list of rules, not " + describe(rules->value));
    }
    std::vector<core::Rule> parsed;
    std::map<std::string, size_t, std::less<>> names;  // name -> index in parsed
    for (const YAML::Node& node : rules->value) {
      const int number = static_cast<int>(parsed.size()) + 1;
      core::Rule r = rule(node, number, line_of(node) ? line_of(node) : rules->line());
      if (auto it = names.find(r.name); it != names.end()) {
        fail(r.line, "duplicate rule name " + quoted(r.name) + " in rule " +
                         std::to_string(number) + " (rule " + std::to_string(it->second + 1) +
                         " at line " + std::to_string(parsed[it->second].line) + " has it too" +
                         (r.name.starts_with("rule ") ? kDefaultNameHint : "") + ")");
      }
      names.emplace(r.name, parsed.size());
      parsed.push_back(std::move(r));
    }
    return core::Rules(std::move(parsed));
  }

 private:
  [[noreturn]] void fail(int line, const std::string& what) const {
    std::string where = "policy " + file_name_;
    if (line > 0) {
      where += ":" + std::to_string(line);
    }
    throw PolicyError(where + ": " + what);
  }

  static std::string syntax_error(std::string_view yaml, const YAML::Exception& e) {
    std::string what = "invalid YAML: " + e.msg;
    if (e.mark.is_null()) {
      return what;
    }
    what += " (column " + std::to_string(e.mark.column + 1);
    std::string_view rest = yaml;
    for (int i = 0; i < e.mark.line && !rest.empty(); ++i) {
      const size_t end = rest.find('\n');
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
    std::string_view text = rest.substr(0, rest.find('\n'));
    if (text.find_first_not_of(" \t\r") != std::string_view::npos) {
      what += " of " + quoted(text);
    }
    return what + ")";
  }

  // The entries of a map in file order, with a key given twice an error (yaml-cpp would keep one
  // of them without a word).
  std::vector<Entry> entries(const YAML::Node& map, const std::string& where) const {
    std::vector<Entry> out;
    for (const auto& pair : map) {
      if (!pair.first.IsScalar()) {
        fail(line_of(pair.first),
             "a key must be a name, not " + describe(pair.first) + " " + where);
      }
      Entry e{pair.first.Scalar(), pair.second, line_of(pair.first)};
      auto same = [&](const Entry& o) { return o.key == e.key; };
      if (auto it = std::find_if(out.begin(), out.end(), same); it != out.end()) {
        fail(e.key_line, "duplicate key " + quoted(e.key) + " " + where + " (first at line " +
                             std::to_string(it->key_line) + ")");
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  // The text of a scalar value; `expected` says what it should be.
  std::string text(const Entry& e, const std::string& where, std::string_view expected) const {
    if (e.value.IsNull()) {
      fail(e.line(),
           e.key + " " + where + " has no value (expected " + std::string(expected) + ")");
    }
    if (!e.value.IsScalar()) {
      fail(e.line(), e.key + " " + where + " must be " + std::string(expected) + ", not " +
                         describe(e.value));
    }
    return e.value.Scalar();
  }

  core::Threshold threshold(const Entry& e, const std::string& where) const {
    auto parsed = core::parse_threshold(text(e, where, "N% of the limit or a size"));
    if (!parsed) {
      fail(e.line(), "invalid " + e.key + " " + where + ": " + parsed.error());
    }
    return *parsed;
  }

  bool boolean(const Entry& e, const std::string& where) const {
    const std::string t = text(e, where, "true or false");
    if (t == "true" || t == "True" || t == "TRUE") {
      return true;
    }
    if (t == "false" || t == "False" || t == "FALSE") {
      return false;
    }
    const bool yaml11 = is_one_of(lower_case(t), kYaml11Booleans);
    fail(e.line(), "invalid " + e.key + " " + quoted(t) + " " + where + ": expected true or false" +
                       (yaml11 ? " (YAML 1.1's yes/no/on/off are not booleans here)" : ""));
  }

  core::RuleMatch match(const Entry& m, int number) const {
    const std::string where = "in rule " + std::to_string(number);
    const std::string in_match = "in the match of rule " + std::to_string(number);
    if (!m.value.IsNull() && !m.value.IsMap()) {
      fail(m.line(), "match " + where + " must be a map of " + one_of(kMatchKeys) + ", not " +
                         describe(m.value));
    }
    if (m.value.IsNull() || m.value.size() == 0) {
      fail(m.line(), "match " + where + " is empty: give at least one of " + one_of(kMatchKeys) +
                         " (a rule for every leaf is the command line's settings, or match: "
                         "{cgroup: \"*\"})");
    }
    core::RuleMatch out;
    for (const Entry& e : entries(m.value, in_match)) {
      if (!is_one_of(e.key, kMatchKeys)) {
        fail(e.key_line, "unknown key " + quoted(e.key) + " " + in_match + " (expected one of " +
                             one_of(kMatchKeys) + ")");
      }
      if (e.key == "qos") {
        std::string qos = text(e, where, "guaranteed, burstable or besteffort");
        std::string lower = lower_case(qos);
        if (!is_one_of(lower, core::kQosClasses)) {
          fail(e.line(), "invalid qos " + quoted(qos) + " " + where + " (expected one of " +
                             one_of(core::kQosClasses) + ")");
        }
        out.qos = lower;
        continue;
      }
      std::string pattern = text(e, where, "a name or a pattern");
      if (auto why = core::glob_error(pattern)) {
        fail(e.line(),
             "invalid " + e.key + " pattern " + quoted(pattern) + " " + where + ": " + *why);
      }
      if (e.key == "cgroup" && pattern.front() == '/') {
        fail(e.line(), "invalid cgroup pattern " + quoted(pattern) + " " + where +
                           ": it is the path below --parent, without a leading /");
      }
      std::optional<std::string>& key = e.key == "namespace"   ? out.namespace_name
                                        : e.key == "pod"       ? out.pod
                                        : e.key == "container" ? out.container
                                                               : out.cgroup;
      key = std::move(pattern);
    }
    return out;
  }

  core::Rule rule(const YAML::Node& node, int number, int line) const {
    const std::string where = "in rule " + std::to_string(number);
    if (!node.IsMap()) {
      fail(line,
           "rule " + std::to_string(number) + " must be a map of settings, not " + describe(node));
    }
    core::Rule r{"rule " + std::to_string(number), line, {}, defaults_};
    bool has_match = false;
    const Entry* threshold_entry = nullptr;
    const Entry* target_entry = nullptr;
    const std::vector<Entry> all = entries(node, where);
    for (const Entry& e : all) {
      if (e.key == "name") {
        r.name = text(e, where, "a name");
        auto control = [](unsigned char c) { return c < 0x20 || c == 0x7f; };
        if (r.name.empty() || std::any_of(r.name.begin(), r.name.end(), control)) {
          fail(e.line(), "invalid name " + quoted(r.name) + " " + where +
                             ": it must be a non-empty name without control characters");
        }
      } else if (e.key == "match") {
        r.match = match(e, number);
        has_match = true;
      } else if (e.key == "threshold") {
        r.policy.threshold = threshold(e, where);
        threshold_entry = &e;
      } else if (e.key == "reclaim-target") {
        r.policy.reclaim_target = threshold(e, where);
        target_entry = &e;
      } else if (e.key == "cooldown") {
        auto parsed = core::parse_duration(text(e, where, "a duration such as 30s or 2m"));
        if (!parsed) {
          fail(e.line(), "invalid cooldown " + where + ": " + parsed.error());
        }
        r.policy.cooldown = *parsed;
      } else if (e.key == "exclude-shmem") {
        r.policy.exclude_shmem = boolean(e, where);
      } else if (e.key == "reclaim") {
        r.policy.reclaim = boolean(e, where);
      } else if (e.key == "refault-backoff") {
        r.policy.refault_backoff = boolean(e, where);
      } else {
        fail(e.key_line, "unknown key " + quoted(e.key) + " " + where + " (expected one of " +
                             one_of(kRuleKeys) + ")");
      }
    }
    if (!has_match) {
      fail(line, "rule " + std::to_string(number) + " has no match: give at least one of " +
                     one_of(kMatchKeys) +
                     " (a rule for every leaf is the command line's settings, or match: "
                     "{cgroup: \"*\"})");
    }
    const core::Policy& p = r.policy;
    // The command line's own pair was checked with its options.
    const bool rule_sets_one = threshold_entry || target_entry;
    if (rule_sets_one && p.reclaim_target &&
        !core::target_below_threshold(*p.reclaim_target, p.threshold)) {
      if (target_entry) {
        fail(target_entry->line(),
             "invalid reclaim-target " + quoted(target_entry->value.Scalar()) + " " + where +
                 ": it must be lower than the threshold " + p.threshold.to_string() +
                 (threshold_entry ? " of the rule" : " from the command line"));
      }
      fail(threshold_entry->line(), "invalid threshold " + quoted(threshold_entry->value.Scalar()) +
                                        " " + where + ": it must be above the reclaim-target " +
                                        p.reclaim_target->to_string() + " from the command line");
    }
    return r;
  }

  std::string file_name_;
  const core::Policy& defaults_;
};

}  // namespace

core::Rules parse_policy(std::string_view yaml, std::string_view file_name,
                         const core::Policy& defaults) {
  return PolicyParser(file_name, defaults).parse(yaml);
}

core::Rules load_policy(const std::string& path, const core::Policy& defaults) {
  auto failed = [&](int err) {
    return PolicyError("failed to read policy " + path + ": " + std::strerror(err));
  };
  cgroup::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    throw failed(errno);
  }
  std::string yaml;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      throw failed(errno);
    }
    if (n == 0) {
      break;
    }
    yaml.append(buf, static_cast<size_t>(n));
  }
  return parse_policy(yaml, path, defaults);
}

}  // namespace cgmm::app
