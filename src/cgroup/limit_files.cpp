#include "cgroup/limit_files.h"

#include "cgroup/files.h"
#include "cgroup/leaf_files.h"

namespace cgmm::cgroup {

core::Limit LimitFiles::read(FdBudget& fds, const Open& open, std::string& buf) {
  const core::Limit max{read_one(max_, files::kMemoryMax, fds, open, buf), core::LimitKind::kMax};
  const core::Limit high{read_one(high_, files::kMemoryHigh, fds, open, buf),
                         core::LimitKind::kHigh};
  return core::tighter(max, high);
}

void LimitFiles::release(FdBudget& fds) {
  fds.drop(max_);
  fds.drop(high_);
}

std::optional<uint64_t> LimitFiles::read_one(Fd& kept, const char* file, FdBudget& fds,
                                             const Open& open, std::string& buf) {
  if (kept) {
    if (auto limit = pread_limit_file(kept.get(), file, buf)) {
      return *limit;
    }
    fds.drop(kept);
    return std::nullopt;
  }
  auto fd = open(file);
  auto limit = fd ? pread_limit_file(fd->get(), file, buf) : fd.error();
  if (limit && fds.may_keep()) {
    fds.keep(kept, std::move(*fd));
  }
  return limit ? *limit : std::nullopt;
}

}  // namespace cgmm::cgroup
