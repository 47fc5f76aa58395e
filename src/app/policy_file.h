#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "core/decide.h"
#include "core/rules.h"

namespace cgmm::app {

// A policy file that cannot be read or is not a valid policy. The message names the file and,
// where there is one, the 1-based line, then quotes the offending text:
//   policy /etc/cgmm/policy.yaml:7: unknown key "treshold" in rule 2 (expected one of name, ...)
class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The policy file (`--policy FILE`), one YAML document:
//
//   rules:
//     - name: databases          # optional; "rule N" (1-based) when not given
//       match:                   # at least one key; all of them must match
//         namespace: "db-*"      # namespace, pod, container, cgroup: globs (core::RuleMatch)
//         qos: burstable         # guaranteed, burstable or besteffort, any case
//       threshold: 80%           # the settings; each one not given is the command line's
//       reclaim-target: 50%
//       cooldown: 2m
//       exclude-shmem: true
//       reclaim: false
//
// Rules are tried in order and the first match wins (core::Rules). The settings take the formats
// of their options and the same checks: threshold and reclaim-target as core::parse_threshold,
// cooldown as core::parse_duration, and a reclaim target must be lower than the threshold it
// goes with, the rule's or the command line's. exclude-shmem and reclaim take the YAML 1.2
// booleans true/false (also True, TRUE, False, FALSE); YAML 1.1's yes/no/on/off are refused,
// since other YAML readers take them for strings. A rule without a match, or with an empty one,
// is an error: a rule for every leaf is the command line's job, and a missing match is more
// likely a slip of indentation (`match: {cgroup: "*"}` says "every leaf" on purpose). A cgroup
// pattern is the path below --parent, without a leading "/". Rule names must be unique, and a
// key may appear only once in a map. An empty `rules` list is a valid policy without rules.
//
// Parses `yaml`; `file_name` is only for messages. Every rule's policy is `defaults` with the
// rule's settings applied. Throws PolicyError.
core::Rules parse_policy(std::string_view yaml, std::string_view file_name,
                         const core::Policy& defaults);

// Reads the file at `path` and parses it. An unreadable file is a PolicyError that names it and
// the reason ("failed to read policy /etc/cgmm/policy.yaml: No such file or directory").
core::Rules load_policy(const std::string& path, const core::Policy& defaults);

}  // namespace cgmm::app
