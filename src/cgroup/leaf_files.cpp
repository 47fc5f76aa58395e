#include "cgroup/leaf_files.h"

#include <cerrno>
#include <string_view>

#include "cgroup/files.h"
#include "cgroup/io.h"

namespace cgmm::cgroup {

IoResult<core::MemoryStats> read_leaf_stats(int dir_fd, Version version,
                                            const core::Limit& v2_limit, std::string& buf) {
  auto fd = open_file_at(dir_fd, files::kMemoryStat);
  if (!fd) {
    return fd.error();
  }
  return pread_leaf_stats(fd->get(), version, v2_limit, buf);
}

IoResult<core::MemoryStats> pread_leaf_stats(int stat_fd, Version version,
                                             const core::Limit& v2_limit, std::string& buf) {
  if (auto st = pread_all(stat_fd, files::kMemoryStat, buf); !st) {
    return st.error();
  }
  auto stats = parse_memory_stat(buf, version);
  if (!stats) {
    return IoError{EBADMSG, "parse", files::kMemoryStat};
  }
  if (version == Version::kV2) {
    stats->limit_bytes = v2_limit.bytes;
    stats->limit_kind = v2_limit.kind;
  }
  return *stats;
}

const char* usage_file(Version version) {
  return version == Version::kV1 ? files::kMemoryUsage : files::kMemoryCurrent;
}

IoResult<uint64_t> read_usage(int dir_fd, Version version, std::string& buf) {
  const char* name = usage_file(version);
  if (auto st = read_file_at(dir_fd, name, buf); !st) {
    return st.error();
  }
  if (auto usage = parse_usage(buf)) {
    return *usage;
  }
  return IoError{EBADMSG, "parse", name};
}

IoResult<AnonAndSwap> read_anon_and_swap(int dir_fd, std::string& buf) {
  AnonAndSwap out;
  if (auto st = read_file_at(dir_fd, files::kMemoryStat, buf); !st) {
    return st.error();
  }
  const std::optional<uint64_t> anon = stat_value(buf, "anon");
  if (!anon) {
    return IoError{EBADMSG, "parse", files::kMemoryStat};
  }
  out.anon_bytes = *anon;
  if (auto st = read_file_at(dir_fd, files::kMemorySwapCurrent, buf); st) {
    out.swap_bytes = parse_usage(buf).value_or(0);
  }
  return out;
}

IoResult<uint64_t> pread_usage(int fd, const char* name) {
  char text[32];  // a byte count and a newline
  auto n = pread_small(fd, name, text, sizeof text);
  if (!n) {
    return n.error();
  }
  if (auto usage = parse_usage(std::string_view(text, *n))) {
    return *usage;
  }
  return IoError{EBADMSG, "parse", name};
}

std::optional<uint64_t> UsageFile::read(Version version, FdBudget& fds, const Open& open) {
  const char* name = usage_file(version);
  if (fd_) {
    if (auto usage = pread_usage(fd_.get(), name)) {
      return *usage;
    }
    fds.drop(fd_);
    return std::nullopt;
  }
  auto fd = open(name);
  if (!fd) {
    return std::nullopt;
  }
  auto usage = pread_usage(fd->get(), name);
  if (!usage) {
    return std::nullopt;
  }
  if (fds.may_keep()) {
    fds.keep(fd_, std::move(*fd));
  }
  return *usage;
}

IoResult<std::optional<uint64_t>> pread_limit_file(int fd, const char* name, std::string& buf) {
  if (auto st = pread_all(fd, name, buf); !st) {
    return st.error();
  }
  auto limit = parse_memory_max(buf);
  return limit ? *limit : std::nullopt;
}

}  // namespace cgmm::cgroup
