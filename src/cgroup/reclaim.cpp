#include "cgroup/reclaim.h"

#include <string>

#include "cgroup/files.h"
#include "cgroup/io.h"

namespace cgmm::cgroup {

IoResult<core::ReclaimResult> Reclaimer::reclaim(int dir_fd, uint64_t target_bytes) {
  auto result = write(dir_fd, target_bytes);
  if (fixture_) {
    fixture_(dir_fd, target_bytes);
  }
  return result;
}

IoResult<core::ReclaimResult> Reclaimer::write(int dir_fd, uint64_t target_bytes) {
  if (version_ == Version::kV1) {
    auto st = write_file_at(dir_fd, files::kForceEmpty, "0");
    if (!st) {
      return st.error();
    }
    return core::ReclaimResult::kDone;
  }

  const std::string amount = std::to_string(target_bytes);
  IoStatus st = Ok{};
  if (swappiness_supported()) {
    st = write_file_at(dir_fd, files::kMemoryReclaim, amount + " swappiness=0");
    if (!st && st.error().err == EINVAL) {
      if (swappiness_ok_.exchange(false)) {
        fallback_news_ = true;
      }
      st = write_file_at(dir_fd, files::kMemoryReclaim, amount);
    }
  } else {
    st = write_file_at(dir_fd, files::kMemoryReclaim, amount);
  }
  if (!st) {
    if (st.error().err == EAGAIN) {
      return core::ReclaimResult::kPartial;
    }
    return st.error();
  }
  return core::ReclaimResult::kDone;
}

}  // namespace cgmm::cgroup
