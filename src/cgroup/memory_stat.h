#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/leaf_sample.h"

namespace cgmm::cgroup {

enum class Version { kV1, kV2 };

// The kernel reports "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB
// pages, less with larger pages). Anything at or above 4 EiB is treated as no limit.
inline constexpr uint64_t kNoLimitFloor = uint64_t{1} << 62;

// The kernel's page size, which memory.stat counts refaults in.
uint64_t page_bytes();

// Parses memory.stat text. Tolerant of what kernels do: unknown keys and malformed lines are
// skipped, and parsing stops once every needed key is seen. Empty when the cache key is missing.
std::optional<core::MemoryStats> parse_memory_stat(std::string_view text, Version version);

// The value of one key of memory.stat text ("anon"), or empty when it is missing or malformed.
std::optional<uint64_t> stat_value(std::string_view text, std::string_view key);

// Parses a v2 limit file (memory.max, memory.high): a byte count, or "max" for none. Empty
// optional inside means "max"; an empty outer optional means the text is not a limit.
std::optional<std::optional<uint64_t>> parse_memory_max(std::string_view text);

// Parses a usage file, one byte count: v1 memory.usage_in_bytes, v2 memory.current.
std::optional<uint64_t> parse_usage(std::string_view text);

}  // namespace cgmm::cgroup
