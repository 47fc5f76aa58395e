#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/decide.h"
#include "core/leaf_sample.h"
#include "core/reclaim_outcome.h"
#include "core/rules.h"
#include "core/tracker.h"
#include "core/units.h"
#include "obs/log.h"

// The daemon's log events. Each is one value whose type fixes its level and its `event` name;
// events.cpp renders each one to its text line and to its JSON fields, side by side. Emit them
// with obs::emit<Event>(...), which builds nothing when the level is off. README's "Logs" lists
// every name and field.
namespace cgmm::obs {

// The JSON object an event adds its fields to.
using Json = nlohmann::ordered_json;

// Writes one event at its level: the text line, or one JSON object with `event`, `msg` and the
// fields `fill` adds for `event`. Only events.cpp sees the JSON library and the logger: an event's
// fields are filled there, through this pointer, and only for the JSON format.
using FillFields = void (*)(const void* event, Json& fields);
void write_event(Level level, const char* name, const std::string& text, FillFields fill,
                 const void* event);

template <class Event>
void log(const Event& e) {
  if (!log_enabled(Event::kLevel)) {
    return;
  }
  const FillFields fill = [](const void* event, Json& fields) {
    static_cast<const Event*>(event)->fields(fields);
  };
  write_event(Event::kLevel, Event::kName, e.text(), fill, &e);
}

// Builds the event only when its level is on.
template <class Event, class... Args>
void emit(Args&&... args) {
  if (log_enabled(Event::kLevel)) {
    log(Event{std::forward<Args>(args)...});
  }
}

// The effective configuration, once at start.
struct Start {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "start";
  std::string_view parent;
  std::string_view cgroup_version;  // "v1", "v2"
  const core::Policy& policy;
  core::Duration interval;
  bool dry_run;
  bool once;
  std::string listen;  // empty without --listen
  bool notifications;
  std::string text() const;
  void fields(Json& j) const;
};

struct ReclaimUnavailable {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "reclaim_unavailable";
  std::string text() const;
  void fields(Json&) const {}
};

struct ReclaimSwappinessUnsupported {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "reclaim_swappiness_unsupported";
  std::string text() const;
  void fields(Json&) const {}
};

struct ScanOverrun {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "scan_overrun";
  core::Duration took;
  core::Duration interval;
  std::string text() const;
  void fields(Json& j) const;
};

struct SignalReceived {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "signal";
  int signal;
  std::string text() const;
  void fields(Json&) const {}
};

struct Stop {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "stop";
  std::string text() const { return "stopping"; }
  void fields(Json&) const {}
};

struct ConfigWarning {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "config_warning";
  std::string_view warning;
  std::string text() const { return std::string(warning); }
  void fields(Json&) const {}
};

// What ends the daemon: exit code 2 for bad usage, 1 for anything else.
struct UsageError {
  static constexpr Level kLevel = Level::kError;
  static constexpr const char* kName = "usage_error";
  std::string_view message;
  int exit_code;
  std::string text() const { return std::string(message); }
  void fields(Json& j) const;
};

struct FatalError {
  static constexpr Level kLevel = Level::kError;
  static constexpr const char* kName = "fatal_error";
  std::string_view message;
  int exit_code;
  std::string text() const { return std::string(message); }
  void fields(Json& j) const;
};

// The policy file was read: at start, or again (`reload`) after a change or SIGHUP.
struct PolicyLoaded {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "policy_loaded";
  std::string_view file;
  const core::Rules& rules;
  bool reload;
  std::string text() const;
  void fields(Json& j) const;
};

// A changed policy file could not be used: the rules read before stay in force.
struct PolicyReloadFailed {
  static constexpr Level kLevel = Level::kError;
  static constexpr const char* kName = "policy_reload_failed";
  std::string_view file;
  std::string_view error;
  size_t rules_kept;
  std::string text() const;
  void fields(Json& j) const;
};

// Once at start: changes to the policy file will not be seen (SIGHUP still reloads it).
struct PolicyUnwatched {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "policy_unwatched";
  std::string_view dir;
  std::string_view why;
  std::string text() const;
  void fields(Json& j) const;
};

// SIGHUP without --policy: nothing to reload.
struct NothingToReload {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "reload_ignored";
  std::string text() const { return "no --policy given: nothing to reload"; }
  void fields(Json&) const {}
};

// Once at start, per kubelet log tree that cannot be read: leaves go without those names.
struct NamesUnavailable {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "names_unavailable";
  std::string_view message;
  std::string text() const { return std::string(message); }
  void fields(Json&) const {}
};

struct ScanFirst {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "scan_first";
  size_t leaves;
  std::string_view parent;
  std::string text() const;
  void fields(Json& j) const;
};

struct CgroupFound {
  static constexpr Level kLevel = Level::kDebug;
  static constexpr const char* kName = "cgroup_found";
  std::string_view cgroup;
  std::string text() const;
  void fields(Json& j) const;
};

struct CgroupAppeared {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "cgroup_appeared";
  const core::LeafSample& leaf;
  std::string text() const;
  void fields(Json& j) const;
};

struct CgroupVanished {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "cgroup_vanished";
  std::string_view cgroup;
  std::string text() const;
  void fields(Json& j) const;
};

struct CgroupError {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "cgroup_error";
  const core::LeafSample& leaf;
  std::string text() const;
  void fields(Json& j) const;
};

struct CgroupRecovered {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "cgroup_recovered";
  std::string_view cgroup;
  std::string text() const;
  void fields(Json& j) const;
};

// A leaf left alone at a scan, at trace (one held by its backoff: obs/backoff_events.h).
struct Decision {
  static constexpr Level kLevel = Level::kTrace;
  static constexpr const char* kName = "decision";
  const core::LeafSample& leaf;
  core::Reason reason;
  std::string text() const;
  void fields(Json& j) const;
};

// A reclaim decided: what is over what, and what will be asked.
struct ReclaimPlan {
  const core::LeafSample& leaf;
  const core::Policy& policy;
  uint64_t threshold_bytes;
  uint64_t target_bytes;
  // "cache 150 MiB over threshold 100 MiB (limit 400 MiB)", "(high limit 200 MiB)" on v2's
  // memory.high.
  std::string over() const;
  void fields(Json& j) const;
};

struct ReclaimStart {
  static constexpr Level kLevel = Level::kDebug;
  static constexpr const char* kName = "reclaim_start";
  ReclaimPlan plan;
  std::string text() const;
  void fields(Json& j) const { plan.fields(j); }
};

// A dry run, or a kernel without memory.reclaim.
struct ReclaimSkipped {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "reclaim_skipped";
  ReclaimPlan plan;
  std::string text() const;
  void fields(Json& j) const { plan.fields(j); }
};

struct Reclaimed {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "reclaim";
  const core::ReclaimOutcome& outcome;
  std::string text() const;
  void fields(Json& j) const;
};

struct ReclaimFailed {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "reclaim_failed";
  const core::ReclaimOutcome& outcome;
  std::string text() const;
  void fields(Json& j) const;
};

struct ReclaimVanished {
  static constexpr Level kLevel = Level::kDebug;
  static constexpr const char* kName = "reclaim_vanished";
  const core::ReclaimOutcome& outcome;
  std::string text() const;
  void fields(Json& j) const;
};

struct ReclaimInterrupted {
  static constexpr Level kLevel = Level::kInfo;
  static constexpr const char* kName = "reclaim_interrupted";
  const core::ReclaimOutcome& outcome;
  std::string text() const;
  void fields(Json& j) const;
};

// Once: a leaf could not be watched between scans.
struct NotifyUnavailable {
  static constexpr Level kLevel = Level::kWarn;
  static constexpr const char* kName = "notify_unavailable";
  std::string_view cgroup;
  std::string_view why;
  std::string text() const;
  void fields(Json& j) const;
};

// The usage crossed a leaf's level with its cache under the threshold: the level moves up.
struct NotifyLevel {
  static constexpr Level kLevel = Level::kDebug;
  static constexpr const char* kName = "notify_level";
  std::string_view cgroup;
  uint64_t usage_bytes;
  uint64_t cache_bytes;
  uint64_t level_bytes;
  std::string text() const;
  void fields(Json& j) const;
};

}  // namespace cgmm::obs
