#include "obs/events.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/rules.h"
#include "obs/event_fields.h"

namespace cgmm::obs {

namespace {

using core::format_bytes;
using core::format_duration;

std::string threshold_text(const core::Threshold& t) {
  return t.is_percent() ? t.to_string() + " of each cgroup's limit" : t.to_string();
}

}  // namespace

void write_event(Level level, const char* name, const std::string& text, FillFields fill,
                 const void* event) {
  if (log_format() == LogFormat::kText) {
    write_line(level, text);
    return;
  }
  Json j = Json::object();
  j["event"] = name;
  j["msg"] = text;
  Json fields = Json::object();
  fill(event, fields);
  j.update(fields);
  const std::string body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // The pattern supplies the braces and the leading time and level fields.
  write_line(level, std::string_view(body).substr(1, body.size() - 2));
}

std::string Start::text() const {
  std::string s = "starting: parent " + std::string(parent) + " (cgroup " +
                  std::string(cgroup_version) + "), threshold " + threshold_text(policy.threshold);
  if (policy.reclaim_target) {
    s += ", reclaim down to " + policy.reclaim_target->to_string();
  }
  s += ", interval " + format_duration(interval) + ", cooldown " + format_duration(policy.cooldown);
  s += policy.exclude_shmem ? ", shmem excluded" : "";
  s += policy.refault_backoff ? "" : ", no refault backoff";
  s += dry_run ? ", dry run" : "";
  s += once ? ", one pass" : "";
  s += listen.empty() ? "" : ", metrics on " + listen;
  if (notifications) {
    s += cgroup_version == "v1" ? ", memory threshold notifications on"
                                : ", memory.current watched between scans";
  }
  return s;
}

void Start::fields(Json& j) const {
  j["parent"] = parent;
  j["notifications"] = notifications;
  j["cgroup_version"] = cgroup_version;
  j["threshold"] = policy.threshold.to_string();
  j["interval_seconds"] = seconds(interval);
  j["cooldown_seconds"] = seconds(policy.cooldown);
  j["exclude_shmem"] = policy.exclude_shmem;
  j["refault_backoff"] = policy.refault_backoff;
  j["dry_run"] = dry_run;
  j["listen"] = listen;
  j["version"] = CGMM_VERSION;
}

std::string ReclaimUnavailable::text() const {
  return "this kernel has no memory.reclaim (cgroup v2 needs Linux 5.19 or later): watching and "
         "reporting only, nothing will be reclaimed";
}

std::string ReclaimSwappinessUnsupported::text() const {
  return "this kernel does not take swappiness= in memory.reclaim (Linux 6.11 and later do); "
         "asking for plain amounts from now on, in steps that stop as soon as a leaf's anonymous "
         "memory shrinks or its swap grows";
}

std::string ScanOverrun::text() const {
  return "scan took " + format_duration(took) + ", longer than the interval " +
         format_duration(interval) + "; starting the next one at once";
}

void ScanOverrun::fields(Json& j) const {
  j["duration_seconds"] = seconds(took);
}

std::string SignalReceived::text() const {
  return std::string("received ") + strsignal(signal);
}

std::string ScanFirst::text() const {
  return "watching " + std::to_string(leaves) + " leaf cgroups under " + std::string(parent);
}

std::string CgroupFound::text() const {
  return "found cgroup " + std::string(cgroup);
}

std::string CgroupAppeared::text() const {
  std::string s = "cgroup " + std::string(leaf.name) + " appeared";
  if (std::string shown = display(leaf.name, leaf.context); shown != leaf.name) {
    s += " as " + shown;
  }
  if (leaf.stats) {
    s += " (cache " + format_bytes(leaf.stats->cache_bytes) + ", " + limit_text(*leaf.stats) + ")";
  }
  return s;
}

void CgroupAppeared::fields(Json& j) const {
  leaf_fields(j, leaf.name, leaf.context);
}

std::string CgroupVanished::text() const {
  return "cgroup " + std::string(cgroup) + " disappeared";
}

std::string CgroupError::text() const {
  return leaf.error + ", ignoring it until it reads again";
}

void CgroupError::fields(Json& j) const {
  j["cgroup"] = leaf.name;
  j["error"] = leaf.error;
}

std::string CgroupRecovered::text() const {
  return "cgroup " + std::string(cgroup) + " reads again";
}

std::string Decision::text() const {
  return display_ruled(leaf.name, leaf.context) + ": " + core::to_string(reason) + " (cache " +
         format_bytes(leaf.stats ? leaf.stats->cache_bytes : 0) + ")";
}

void Decision::fields(Json& j) const {
  leaf_fields(j, leaf.name, leaf.context);
  j["reason"] = core::to_string(reason);
}

std::string ReclaimPlan::over() const {
  const core::MemoryStats stats = leaf.stats.value_or(core::MemoryStats{});
  const std::string counted =
      policy.exclude_shmem
          ? "reclaimable cache " + format_bytes(core::counted_cache_bytes(stats, policy)) +
                " (shmem " + format_bytes(stats.shmem_bytes) + " not counted)"
          : "cache " + format_bytes(stats.cache_bytes);
  return counted + " over threshold " + format_bytes(threshold_bytes) + " (" + limit_text(stats) +
         ")";
}

void ReclaimPlan::fields(Json& j) const {
  const core::MemoryStats stats = leaf.stats.value_or(core::MemoryStats{});
  leaf_fields(j, leaf.name, leaf.context);
  j["cache_bytes"] = stats.cache_bytes;
  j["shmem_bytes"] = stats.shmem_bytes;
  j["threshold_bytes"] = threshold_bytes;
  j["limit_bytes"] = optional_json(stats.limit_bytes);
  j["limit_kind"] = stats.limit_bytes ? Json(core::to_string(stats.limit_kind)) : Json(nullptr);
  j["target_bytes"] = target_bytes;
}

std::string ReclaimStart::text() const {
  return "reclaiming " + display_ruled(plan.leaf.name, plan.leaf.context) + ": " + plan.over();
}

std::string ReclaimSkipped::text() const {
  return "would reclaim " + display_ruled(plan.leaf.name, plan.leaf.context) + ": " + plan.over();
}

std::string Reclaimed::text() const {
  const core::ReclaimOutcome& o = outcome;
  std::string s = "reclaimed " + display_ruled(o.name, o.context) + ": cache " +
                  format_bytes(o.cache_before_bytes) + " -> " +
                  (o.cache_after_bytes ? format_bytes(*o.cache_after_bytes) : "unknown") +
                  ", freed " + format_bytes(o.freed_bytes()) + " in " + format_duration(o.took);
  if (o.result == core::ReclaimResult::kPartial) {
    s += " (less than the " + format_bytes(o.target_bytes) + " asked)";
  }
  if (o.swap_guard) {
    s += "; stopped as anonymous memory began to go to swap";
  }
  return s;
}

void Reclaimed::fields(Json& j) const {
  const core::ReclaimOutcome& o = outcome;
  leaf_fields(j, o.name, o.context);
  j["result"] = core::to_string(o.result);
  j["cache_bytes"] = o.cache_before_bytes;
  j["cache_after_bytes"] = optional_json(o.cache_after_bytes);
  j["target_bytes"] = o.target_bytes;
  j["freed_bytes"] = o.freed_bytes();
  j["duration_seconds"] = seconds(o.took);
  if (o.steps > 0) {
    j["steps"] = o.steps;
    j["swap_guard"] = o.swap_guard;
  }
}

std::string ReclaimFailed::text() const {
  std::string s = outcome.error + ", trying again after the cooldown";
  if (outcome.context.rule) {
    s += " (rule " + outcome.context.rule->name + ")";
  }
  return s;
}

void ReclaimFailed::fields(Json& j) const {
  leaf_fields(j, outcome.name, outcome.context);
  j["error"] = outcome.error;
  j["duration_seconds"] = seconds(outcome.took);
}

std::string ReclaimVanished::text() const {
  return "cgroup " + outcome.name + " disappeared during its reclaim";
}

std::string ReclaimInterrupted::text() const {
  return "reclaim of " + display(outcome.name, outcome.context) + " interrupted";
}

std::string NotifyUnavailable::text() const {
  return std::string(why) +
         "; leaves that cannot be watched between scans are checked at each scan only (logged "
         "once)";
}

void NotifyUnavailable::fields(Json& j) const {
  j["cgroup"] = cgroup;
  j["error"] = why;
}

std::string NotifyLevel::text() const {
  return std::string(cgroup) + ": usage " + format_bytes(usage_bytes) +
         " crossed its level with cache " + format_bytes(cache_bytes) + "; next level " +
         format_bytes(level_bytes);
}

void NotifyLevel::fields(Json& j) const {
  j["cgroup"] = cgroup;
  j["usage_bytes"] = usage_bytes;
  j["cache_bytes"] = cache_bytes;
  j["level_bytes"] = level_bytes;
}

void ReclaimVanished::fields(Json& j) const {
  leaf_fields(j, outcome.name, outcome.context);
}

void ReclaimInterrupted::fields(Json& j) const {
  leaf_fields(j, outcome.name, outcome.context);
}

void UsageError::fields(Json& j) const {
  j["exit_code"] = exit_code;
}

void FatalError::fields(Json& j) const {
  j["exit_code"] = exit_code;
}

void ScanFirst::fields(Json& j) const {
  j["leaves"] = leaves;
}

void CgroupFound::fields(Json& j) const {
  j["cgroup"] = cgroup;
}

void CgroupVanished::fields(Json& j) const {
  j["cgroup"] = cgroup;
}

void CgroupRecovered::fields(Json& j) const {
  j["cgroup"] = cgroup;
}

}  // namespace cgmm::obs
