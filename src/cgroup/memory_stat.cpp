#include "cgroup/memory_stat.h"

#include <unistd.h>

#include <charconv>

namespace cgmm::cgroup {

namespace {

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::optional<uint64_t> as_limit(uint64_t v) {
  if (v >= kNoLimitFloor) {
    return std::nullopt;
  }
  return v;
}

std::string_view trim_end(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

uint64_t page_bytes() {
  static const uint64_t kBytes = [] {
    const long n = ::sysconf(_SC_PAGESIZE);
    return n > 0 ? static_cast<uint64_t>(n) : uint64_t{4096};
  }();
  return kBytes;
}

std::optional<core::MemoryStats> parse_memory_stat(std::string_view text, Version version) {
  const std::string_view cache_key = version == Version::kV1 ? "cache" : "file";
  constexpr std::string_view kShmem = "shmem";
  constexpr std::string_view kLimit = "hierarchical_memory_limit";
  // Kernels before 5.9 count file and anonymous refaults together under the shorter name.
  constexpr std::string_view kRefault = "workingset_refault_file";
  constexpr std::string_view kOldRefault = "workingset_refault";
  // v1's usage counts the cgroup's descendants too, and so does this key; its unprefixed
  // inactive_file does not. v1 prints it near the end, after the limits.
  const std::string_view inactive_key =
      version == Version::kV1 ? "total_inactive_file" : "inactive_file";
  // v2 has no limit in memory.stat, so one key fewer is needed there.
  const int needed = version == Version::kV1 ? 5 : 4;

  core::MemoryStats stats;
  bool have_cache = false;
  int seen = 0;
  while (!text.empty() && seen < needed) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      continue;
    }
    std::string_view key = line.substr(0, sp);
    std::optional<uint64_t> value;
    const bool refault = key == kRefault || key == kOldRefault;
    if (key == cache_key || key == kShmem || refault || key == inactive_key ||
        (version == Version::kV1 && key == kLimit)) {
      value = parse_u64(line.substr(sp + 1));
    }
    if (!value) {
      continue;
    }
    ++seen;
    if (key == cache_key) {
      stats.cache_bytes = *value;
      have_cache = true;
    } else if (key == kShmem) {
      stats.shmem_bytes = *value;
    } else if (refault) {
      stats.refault_bytes = *value * page_bytes();
    } else if (key == inactive_key) {
      stats.inactive_file_bytes = *value;
    } else {
      stats.limit_bytes = as_limit(*value);
    }
  }
  if (!have_cache) {
    return std::nullopt;
  }
  return stats;
}

std::optional<uint64_t> stat_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      return parse_u64(line.substr(key.size() + 1));
    }
  }
  return std::nullopt;
}

std::optional<std::optional<uint64_t>> parse_memory_max(std::string_view text) {
  text = trim_end(text);
  if (text == "max") {
    return std::optional<uint64_t>{};
  }
  auto v = parse_u64(text);
  if (!v) {
    return std::nullopt;
  }
  return as_limit(*v);
}

std::optional<uint64_t> parse_usage(std::string_view text) {
  return parse_u64(trim_end(text));
}

}  // namespace cgmm::cgroup
