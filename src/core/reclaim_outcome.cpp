#include "core/reclaim_outcome.h"

namespace cgmm::core {

const char* to_string(ReclaimResult result) {
  switch (result) {
    case ReclaimOutcome::Result::kDone:
      return "done";
    case ReclaimOutcome::Result::kPartial:
      return "partial";
    case ReclaimOutcome::Result::kFailed:
      return "failed";
    case ReclaimOutcome::Result::kVanished:
      return "vanished";
    case ReclaimOutcome::Result::kInterrupted:
      return "interrupted";
  }
  return "?";
}

uint64_t reclaim_step_bytes(uint64_t remaining_bytes) {
  return remaining_bytes <= kWholeStepBytes ? remaining_bytes : remaining_bytes / 2;
}

}  // namespace cgmm::core
