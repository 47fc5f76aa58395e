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

}  // namespace cgmm::core
