#include "obs/event_fields.h"

#include "core/rules.h"
#include "k8s/pod_identity.h"

namespace cgmm::obs {

double seconds(core::Duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string limit_text(const core::MemoryStats& stats) {
  if (!stats.limit_bytes) {
    return "limit none";
  }
  const bool high = stats.limit_kind == core::LimitKind::kHigh;
  return (high ? "high limit " : "limit ") + core::format_bytes(*stats.limit_bytes);
}

Json optional_json(const std::optional<uint64_t>& v) {
  return v ? Json(*v) : Json(nullptr);
}

namespace {

// Container ids are shown by their first 12 hex digits, as the container runtimes' tools do.
constexpr size_t kShortIdLength = 12;

}  // namespace

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
  } else if (context.runtime) {
    s += " conmon";  // podman's one conmon cgroup of a pod (cgroupfs): no container id
  }
  return s;
}

std::string display_ruled(std::string_view cgroup, const core::LeafContext& context) {
  std::string s = display(cgroup, context);
  if (context.rule) {
    s += " (rule " + context.rule->name + ")";
  }
  return s;
}

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

}  // namespace cgmm::obs
