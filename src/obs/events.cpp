#include "obs/events.h"

#include <cstring>

#include "core/rules.h"
#include "k8s/pod_identity.h"

namespace cgmm::obs {

namespace {

using core::format_bytes;
using core::format_duration;

double seconds(core::Duration d) {
  return std::chrono::duration<double>(d).count();
}

// "limit 400.0 MiB", "high limit 200.0 MiB" (v2 memory.high), "limit none".
std::string limit_text(const core::MemoryStats& stats) {
  if (!stats.limit_bytes) {
    return "limit none";
  }
  const bool high = stats.limit_kind == core::LimitKind::kHigh;
  return (high ? "high limit " : "limit ") + format_bytes(*stats.limit_bytes);
}

Json optional_json(const std::optional<uint64_t>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// Container ids are shown by their first 12 hex digits, as the container runtimes' tools do.
constexpr size_t kShortIdLength = 12;

// A leaf as messages name it: "<namespace>/<pod>/<container>" when the node names its container,
// "<namespace>/<pod> container <id>" (or "pod <uid> container <id>") when it names less, else its
// cgroup path. A runtime's cgroup says "conmon" where a container's says "container".
std::string display(std::string_view cgroup, const core::LeafContext& context) {
  const auto id = k8s::parse_pod_identity(cgroup);
  if (!id) {
    return std::string(cgroup);
  }
  const core::Workload* w = context.workload.get();
  const bool named = w != nullptr && !w->namespace_name.empty() && !w->pod.empty();
  std::string s = named ? w->namespace_name + "/" + w->pod : "pod " + id->pod_uid;
  if (named && !context.runtime && !w->container.empty()) {
    return s + "/" + w->container;
  }
  if (!id->container_id.empty()) {
    s += context.runtime ? " conmon " : " container ";
    s += std::string_view(id->container_id).substr(0, kShortIdLength);
  }
  return s;
}

// The same with the rule that decided it: "db-1/postgres-0/postgres (rule databases)".
std::string display_ruled(std::string_view cgroup, const core::LeafContext& context) {
  std::string s = display(cgroup, context);
  if (context.rule) {
    s += " (rule " + context.rule->name + ")";
  }
  return s;
}

// The cgroup, what the kubelet's layout and names say of it (empty where unknown), and its rule.
void leaf_fields(Json& j, std::string_view cgroup, const core::LeafContext& context) {
  j["cgroup"] = cgroup;
  const auto id = k8s::parse_pod_identity(cgroup);
  const core::Workload* w = context.workload.get();
  j["namespace"] = w ? w->namespace_name : "";
  j["pod"] = w ? w->pod : "";
  j["container"] = w && !context.runtime ? w->container : "";
  j["pod_uid"] = id ? id->pod_uid : "";
  j["container_id"] = id ? id->container_id : "";
  j["rule"] = context.rule ? context.rule->name : "";
}

std::string threshold_text(const core::Threshold& t) {
  return t.is_percent() ? t.to_string() + " of each cgroup's limit" : t.to_string();
}

}  // namespace

void write_event(Level level, const char* name, const std::string& text, const Json* fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (fields == nullptr) {
    logger->log(level, "{}", text);
    return;
  }
  Json j;
  j["event"] = name;
  j["msg"] = text;
  j.update(*fields);
  const std::string body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // The pattern supplies the braces and the leading time and level fields.
  logger->log(level, "{}", std::string_view(body).substr(1, body.size() - 2));
}

std::string Start::text() const {
  std::string s = "starting: parent " + std::string(parent) + " (cgroup " +
                  std::string(cgroup_version) + "), threshold " + threshold_text(policy.threshold);
  if (policy.reclaim_target) {
    s += ", reclaim down to " + policy.reclaim_target->to_string();
  }
  s += ", interval " + format_duration(interval) + ", cooldown " + format_duration(policy.cooldown);
  s += policy.exclude_shmem ? ", shmem excluded" : "";
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

std::string DecisionBackoff::text() const {
  const core::MemoryStats stats = leaf.stats.value_or(core::MemoryStats{});
  return display_ruled(leaf.name, leaf.context) + ": backoff (cache " +
         format_bytes(stats.cache_bytes) + ", shmem " + format_bytes(stats.shmem_bytes) + ")";
}

void DecisionBackoff::fields(Json& j) const {
  leaf_fields(j, leaf.name, leaf.context);
  j["reason"] = core::to_string(core::Reason::kBackoff);
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

std::string ReclaimBackoff::text() const {
  const core::ReclaimOutcome& o = outcome;
  const std::string shmem = o.shmem_after_bytes ? format_bytes(*o.shmem_after_bytes) : "unknown";
  return "reclaim of " + display(o.name, o.context) + " freed only " +
         format_bytes(o.freed_bytes()) + " of " + format_bytes(o.target_bytes) + " (cache " +
         format_bytes(o.cache_after_bytes.value_or(0)) + " left, of which shmem " + shmem +
         "): its cache is probably shmem/tmpfs, which reclaim cannot free without swap; backing "
         "off, next reclaim in " +
         format_duration(change.wait) + " at the earliest, doubling up to " +
         format_duration(longest_wait) +
         " while reclaims keep freeing under a tenth of their target";
}

void ReclaimBackoff::fields(Json& j) const {
  const core::ReclaimOutcome& o = outcome;
  leaf_fields(j, o.name, o.context);
  j["freed_bytes"] = o.freed_bytes();
  j["target_bytes"] = o.target_bytes;
  j["cache_after_bytes"] = optional_json(o.cache_after_bytes);
  j["shmem_bytes"] = optional_json(o.shmem_after_bytes);
  j["futile_streak"] = change.futile_streak;
  j["backoff_seconds"] = seconds(change.wait);
}

std::string ReclaimBackoffLonger::text() const {
  const core::ReclaimOutcome& o = outcome;
  const std::string shmem = o.shmem_after_bytes ? format_bytes(*o.shmem_after_bytes) : "unknown";
  return "reclaim of " + display(o.name, o.context) + " freed only " +
         format_bytes(o.freed_bytes()) + " again (shmem " + shmem + "); next reclaim in " +
         format_duration(change.wait) + " at the earliest";
}

void ReclaimBackoffLonger::fields(Json& j) const {
  leaf_fields(j, outcome.name, outcome.context);
  j["freed_bytes"] = outcome.freed_bytes();
  j["futile_streak"] = change.futile_streak;
  j["backoff_seconds"] = seconds(change.wait);
}

std::string ReclaimBackoffEnded::text() const {
  return "reclaim of " + display(outcome.name, outcome.context) + " freed " +
         format_bytes(outcome.freed_bytes()) + " again; back to the cooldown of " +
         format_duration(change.wait);
}

void ReclaimBackoffEnded::fields(Json& j) const {
  leaf_fields(j, outcome.name, outcome.context);
  j["freed_bytes"] = outcome.freed_bytes();
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

}  // namespace cgmm::obs
