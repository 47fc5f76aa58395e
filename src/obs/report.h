#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cgroup/memory_stat.h"
#include "core/decide.h"
#include "core/reclaim_outcome.h"

namespace cgmm::obs {

// One leaf in the report of a single pass (--once).
struct ReportRow {
  std::string name;     // the cgroup path below the parent's parent
  std::string display;  // "pod <uid> container <id>" for Kubernetes containers, else the path
  std::string pod_uid;
  std::string container_id;
  std::string qos;
  std::string namespace_name;  // the node's names for it; empty where unknown
  std::string pod;
  std::string container;
  std::string rule;                        // the policy rule that decided it; empty for none
  std::optional<core::MemoryStats> stats;  // empty when memory.stat could not be read
  std::string error;
  core::Decision decision;
  std::optional<core::ReclaimOutcome> outcome;  // when a reclaim ran
};

// An aligned table, one row per leaf: its namespace, pod and container (when any leaf has names),
// cgroup, cache, limit and its kind (`max` or `high`), threshold, cache as a share of the limit,
// its rule (when any leaf has one), and what happened and why.
void print_table(std::ostream& out, const std::vector<ReportRow>& rows, bool dry_run);

// The same as one JSON document: {"dry_run": ..., "cgroups": [...]}, sizes in exact bytes.
void print_json(std::ostream& out, const std::vector<ReportRow>& rows, bool dry_run);

}  // namespace cgmm::obs
