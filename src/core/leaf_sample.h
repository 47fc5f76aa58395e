#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/limit.h"

namespace cgmm::core {

// What the daemon needs from one cgroup's memory.stat, in bytes.
struct MemoryStats {
  // Page cache charged to the cgroup: v1 `cache`, v2 `file`. Includes shmem/tmpfs.
  uint64_t cache_bytes = 0;
  // The shmem/tmpfs part of the cache, which reclaim cannot free without swap.
  uint64_t shmem_bytes = 0;
  // The effective limit: v1 `hierarchical_memory_limit` (the smallest limit on the path to the
  // root); v2 the smallest memory.max or memory.high of the cgroup and its ancestors, filled in
  // by the scanner. Empty when there is none.
  std::optional<uint64_t> limit_bytes;
  // Page cache the cgroup read back soon after losing it, since the cgroup was made: the kernel's
  // counter of refaulted file pages (`workingset_refault_file`; `workingset_refault` before Linux
  // 5.9), in bytes. 0 where the kernel has no such counter.
  uint64_t refault_bytes = 0;
  // File pages on the inactive list, the first the kernel reclaims: v1 `total_inactive_file`
  // (the cgroup and its descendants, as the usage counts them), v2 `inactive_file`. 0 where
  // memory.stat has no such key.
  uint64_t inactive_file_bytes = 0;
  LimitKind limit_kind = LimitKind::kMax;  // which of them it is (core/limit.h)

  bool operator==(const MemoryStats&) const = default;
};

// The working set as the kubelet counts it for eviction (cAdvisor's): the cgroup's memory usage
// less its inactive file pages, 0 when those exceed the usage (the two are read apart).
inline uint64_t working_set_bytes(uint64_t usage_bytes, const MemoryStats& stats) {
  return usage_bytes > stats.inactive_file_bytes ? usage_bytes - stats.inactive_file_bytes : 0;
}

// Whose container a leaf is, as the node names it (the kubelet's log trees, in Kubernetes terms);
// each part is empty where it is unknown: outside Kubernetes, for a pod the trees do not name
// (yet), for a pod's own cgroup (no container) and for its sandbox (pause) container.
struct Workload {
  std::string namespace_name;
  std::string pod;
  std::string container;

  bool operator==(const Workload&) const = default;
};

struct Rule;  // core/rules.h

// Who a leaf is and which rule decides it, as the scan pass resolves them from its cgroup path,
// the node's names and the policy. Shared, not copied: a leaf keeps the rule it was decided with
// until the next scan, also across a reload of the policy.
struct LeafContext {
  std::shared_ptr<const Workload> workload;  // null when the node names nobody for it
  std::shared_ptr<const Rule> rule;          // null: no rule matched, the command line decides
  // A container runtime's own cgroup (conmon's), not a container: never reclaimed.
  bool runtime = false;
};

// One leaf cgroup as seen by one scan. The name views the scanner's copy: valid until the next
// scan; whoever keeps a leaf beyond it (the Tracker, a reclaim job) keeps its own copy.
struct LeafSample {
  std::string_view name;  // "<parent name>/<path below the parent>", or the parent's name
  uint64_t inode = 0;     // with the name, identifies one incarnation of the cgroup
  std::optional<MemoryStats> stats;
  // Why stats could not be read ("failed to read memory.stat of <name>: <reason>"); empty when
  // they were. A leaf that vanished is left out of the scan, never an error.
  std::string error;
  LeafContext context;  // filled in by the scan pass before any decision
  // The cgroup's memory usage (v1 memory.usage_in_bytes, v2 memory.current), read by the scan
  // right after memory.stat; empty when it could not be read, or the stats were not.
  std::optional<uint64_t> usage_bytes;
};

}  // namespace cgmm::core
