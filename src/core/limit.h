#pragma once

#include <cstdint>
#include <optional>

namespace cgmm::core {

// Which limit bounds a cgroup. kMax: the hard limit (v1 `hierarchical_memory_limit`, v2
// `memory.max`), at which the kernel reclaims in the cgroup's own threads and then OOM-kills.
// kHigh: v2 `memory.high` (set by Kubernetes Memory QoS), over which the kernel throttles the
// cgroup's threads, reclaiming in them: latency long before any OOM. On v1 it is always kMax.
enum class LimitKind : uint8_t { kMax, kHigh };

// "max" or "high": the word of the report, the logs and the metrics' `limit_kind` label.
constexpr const char* to_string(LimitKind kind) {
  return kind == LimitKind::kHigh ? "high" : "max";
}

// A limit in bytes (none: unlimited) and which limit it is; kMax when there is none.
struct Limit {
  std::optional<uint64_t> bytes;
  LimitKind kind = LimitKind::kMax;

  bool operator==(const Limit&) const = default;
};

// The tighter of two limits: the smaller byte count, none being looser than any. On a tie the
// hard limit (kMax), since it is the one that ends in an OOM kill.
constexpr Limit tighter(const Limit& a, const Limit& b) {
  if (!a.bytes || !b.bytes) {
    return a.bytes ? a : b.bytes ? b : Limit{};
  }
  if (*a.bytes != *b.bytes) {
    return *a.bytes < *b.bytes ? a : b;
  }
  return a.kind == LimitKind::kMax ? a : b;
}

}  // namespace cgmm::core
