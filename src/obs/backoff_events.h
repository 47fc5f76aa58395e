#pragma once

#include "core/decide.h"
#include "core/leaf_sample.h"
#include "core/reclaim_outcome.h"
#include "core/tracker.h"
#include "core/units.h"
#include "obs/events.h"

// The log events of the feedback from a leaf's reclaims to its next ones: reclaims that freed
// almost nothing (futile: shmem/tmpfs), reclaims whose cache came back at once (harmful: hot
// cache), the backoff they start and its end. Rendered in backoff_events.cpp.
namespace cgmm::obs {

// A leaf over its threshold held back by its backoff, at a scan.
struct DecisionBackoff {
  static constexpr Level kLevel = Level::kDebug;
  static constexpr const char* kName = "decision";
  const core::LeafSample& leaf;
  core::Reason reason;  // kBackoff or kHotCache
  std::string text() const;
  void fields(Json& j) const;
};

// The first futile reclaim of a streak, or the first after harmful ones.
struct ReclaimBackoff {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "reclaim_backoff";
  const core::ReclaimOutcome& outcome;
  const core::BackoffChange& change;
  core::Duration longest_wait;
  std::string text() const;
  void fields(Json& j) const;
};

struct ReclaimBackoffLonger {
  static constexpr Level kLevel = Level::kDebug;
  static constexpr const char* kName = "reclaim_backoff_longer";
  const core::ReclaimOutcome& outcome;
  const core::BackoffChange& change;
  std::string text() const;
  void fields(Json& j) const;
};

// The first harmful reclaim of a streak, or the first after futile ones: the leaf read back at
// least half of what was freed within one cooldown.
struct ReclaimRefaulted {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "reclaim_refaulted";
  const core::RefaultNews& news;
  core::Duration longest_wait;
  std::string text() const;
  void fields(Json& j) const;
};

struct ReclaimRefaultedAgain {
  static constexpr Level kLevel = Level::kDebug;
  static constexpr const char* kName = "reclaim_refaulted_again";
  const core::RefaultNews& news;
  std::string text() const;
  void fields(Json& j) const;
};

// A reclaim freed a tenth or more of its target, and less than half of that came back within a
// cooldown: back to the plain cooldown.
struct ReclaimBackoffEnded {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "reclaim_backoff_ended";
  const core::RefaultNews& news;
  std::string text() const;
  void fields(Json& j) const;
};

}  // namespace cgmm::obs
