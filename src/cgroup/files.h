#pragma once

// Every cgroupfs file name the daemon touches, in one place.
namespace cgmm::cgroup::files {

inline constexpr const char* kMemoryStat = "memory.stat";
// v1: writing any value reclaims as much of the cgroup's memory as it can; blocks the writer.
inline constexpr const char* kForceEmpty = "memory.force_empty";
// v2 (Linux 5.19+): writing "<bytes> [swappiness=N]" reclaims about that much; blocks the writer.
inline constexpr const char* kMemoryReclaim = "memory.reclaim";
// v2: the cgroup's own hard limit, "max" when there is none.
inline constexpr const char* kMemoryMax = "memory.max";
// v2: the cgroup's throttling limit, in memory.max's format: over it the kernel reclaims in the
// cgroup's own threads (memory.events counts `high`).
inline constexpr const char* kMemoryHigh = "memory.high";

// v1: the cgroup's memory usage, one number; usage above a level is necessary for cache above it.
inline constexpr const char* kMemoryUsage = "memory.usage_in_bytes";
// v2: the cgroup's memory usage, one number (a counter read, far cheaper than memory.stat).
inline constexpr const char* kMemoryCurrent = "memory.current";
inline constexpr const char* kMemorySwapCurrent = "memory.swap.current";
// v2: the controllers enabled for the cgroup, space-separated ("cpu io memory pids").
inline constexpr const char* kControllers = "cgroup.controllers";
// v1: "<eventfd> <fd of memory.usage_in_bytes> <level>" registers a memory threshold.
inline constexpr const char* kEventControl = "cgroup.event_control";

}  // namespace cgmm::cgroup::files
