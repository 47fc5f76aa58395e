#include "k8s/pod_identity.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace cgmm::k8s {
namespace {

// Pod UIDs are UUIDs for API pods and 32 hex digits for static pods; anything longer is not a UID.
constexpr std::size_t kMaxPodUidLength = 64;
constexpr std::size_t kContainerIdLength = 64;
constexpr std::size_t kShortIdLength = 12;

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    if (!part.empty()) {
      parts.push_back(part);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_container_id(std::string_view id) {
  return id.size() == kContainerIdLength && std::ranges::all_of(id, is_hex_digit);
}

// `separator` is '-' for cgroupfs and '_' for systemd, which reserves '-' for slice nesting.
std::optional<std::string> pod_uid_from(std::string_view raw, char separator) {
  if (raw.empty() || raw.size() > kMaxPodUidLength) {
    return std::nullopt;
  }
  std::string uid;
  uid.reserve(raw.size());
  for (const char c : raw) {
    if (c == separator) {
      uid.push_back('-');
    } else if (is_hex_digit(c)) {
      uid.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  return uid;
}

bool consume_prefix(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) {
    return false;
  }
  s.remove_prefix(prefix.size());
  return true;
}

bool consume_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix)) {
    return false;
  }
  s.remove_suffix(suffix.size());
  return true;
}

// crun's child of the container's cgroup that holds the container's processes (systemd driver).
constexpr std::string_view kCrunSubgroup = "container";
// podman's cgroup for conmon, its monitor, on the cgroupfs driver: one for all the containers with
// the same parent, beside them.
constexpr std::string_view kPodmanConmon = "conmon";

// How a runtime names the cgroups it makes below a pod: the prefix before a container's id, the
// prefix before the id of the container its monitor watches (none: the runtime has no monitor
// cgroup of that form), and whether crun's `container` child may hold the processes.
struct Naming {
  std::string_view container;
  std::string_view monitor;
  bool crun_child = false;
};

// CRI-O and podman run conmon in a cgroup of their own; containerd and cri-dockerd have no such
// cgroup below the pod. CRI-O's cgroupfs `crio-<id>/container` is accepted as on systemd.
constexpr std::array kCgroupfsNamings{
    Naming{"crio-", "crio-conmon-", true},
    Naming{"libpod-", "", false},
    Naming{"", "", false},
};
constexpr std::array kSystemdNamings{
    Naming{"crio-", "crio-conmon-", true},
    Naming{"libpod-", "libpod-conmon-", true},
    Naming{"cri-containerd-", "", false},
    Naming{"docker-", "", false},
};

bool set_container_id(std::string_view id, PodIdentity& identity) {
  if (!is_container_id(id)) {
    return false;
  }
  identity.container_id = std::string(id);
  return true;
}

// Fills the container part of `identity` from `name`, the first cgroup below the pod (without
// ".scope" on systemd), and what is below it: a container's, crun's `container` child of one, or
// a monitor's (a runtime cgroup); false for anything else.
bool parse_container(std::string_view name, std::span<const std::string_view> below,
                     std::span<const Naming> namings, PodIdentity& identity) {
  for (const Naming& naming : namings) {
    std::string_view id = name;
    if (!naming.monitor.empty() && consume_prefix(id, naming.monitor)) {
      identity.runtime = below.empty() && set_container_id(id, identity);
      return identity.runtime;
    }
  }
  for (const Naming& naming : namings) {
    std::string_view id = name;
    if (consume_prefix(id, naming.container) && is_container_id(id)) {
      identity.container_id = std::string(id);
      return below.empty() || (naming.crun_child && below.size() == 1 && below[0] == kCrunSubgroup);
    }
  }
  return false;
}

bool parse_cgroupfs_container(std::span<const std::string_view> parts, PodIdentity& identity) {
  if (parts.size() == 1 && parts[0] == kPodmanConmon) {
    identity.runtime = true;
    return true;
  }
  return parse_container(parts[0], parts.subspan(1), kCgroupfsNamings, identity);
}

bool parse_systemd_container(std::span<const std::string_view> parts, PodIdentity& identity) {
  std::string_view name = parts[0];
  return consume_suffix(name, ".scope") &&
         parse_container(name, parts.subspan(1), kSystemdNamings, identity);
}

std::optional<PodIdentity> parse_cgroupfs(std::span<const std::string_view> parts) {
  PodIdentity identity;
  std::size_t i = 0;
  if (i < parts.size() && parts[i] == "burstable") {
    identity.qos = QosClass::kBurstable;
    ++i;
  } else if (i < parts.size() && parts[i] == "besteffort") {
    identity.qos = QosClass::kBestEffort;
    ++i;
  }
  if (i >= parts.size()) {
    return std::nullopt;
  }
  std::string_view pod = parts[i++];
  if (!consume_prefix(pod, "pod")) {
    return std::nullopt;
  }
  auto uid = pod_uid_from(pod, '-');
  if (!uid) {
    return std::nullopt;
  }
  identity.pod_uid = std::move(*uid);
  if (i == parts.size()) {
    return identity;
  }
  if (!parse_cgroupfs_container(parts.subspan(i), identity)) {
    return std::nullopt;
  }
  return identity;
}

// `base` is the root slice's name without ".slice" ("kubepods" or e.g. "kubelet-kubepods");
// systemd names every nested slice after its parent, joined by '-'.
std::optional<PodIdentity> parse_systemd(std::string base,
                                         std::span<const std::string_view> parts) {
  PodIdentity identity;
  std::size_t i = 0;
  if (i < parts.size() && parts[i] == base + "-burstable.slice") {
    identity.qos = QosClass::kBurstable;
    base += "-burstable";
    ++i;
  } else if (i < parts.size() && parts[i] == base + "-besteffort.slice") {
    identity.qos = QosClass::kBestEffort;
    base += "-besteffort";
    ++i;
  }
  if (i >= parts.size()) {
    return std::nullopt;
  }
  std::string_view pod = parts[i++];
  if (!consume_prefix(pod, base + "-pod") || !consume_suffix(pod, ".slice")) {
    return std::nullopt;
  }
  auto uid = pod_uid_from(pod, '_');
  if (!uid) {
    return std::nullopt;
  }
  identity.pod_uid = std::move(*uid);
  if (i == parts.size()) {
    return identity;
  }
  if (!parse_systemd_container(parts.subspan(i), identity)) {
    return std::nullopt;
  }
  return identity;
}

}  // namespace

std::optional<PodIdentity> parse_pod_identity(std::string_view cgroup_path) {
  const auto parts = split_path(cgroup_path);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::span<const std::string_view> rest(parts.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                                 parts.end());
    if (parts[i] == "kubepods") {
      return parse_cgroupfs(rest);
    }
    std::string_view slice = parts[i];
    if (consume_suffix(slice, ".slice") && (slice == "kubepods" || slice.ends_with("-kubepods"))) {
      return parse_systemd(std::string(slice), rest);
    }
  }
  return std::nullopt;
}

std::string_view to_string(QosClass qos) {
  switch (qos) {
    case QosClass::kGuaranteed:
      return "guaranteed";
    case QosClass::kBurstable:
      return "burstable";
    case QosClass::kBestEffort:
      return "besteffort";
  }
  return "unknown";
}

std::string display_name(const PodIdentity& identity) {
  std::string name = "pod " + identity.pod_uid;
  if (identity.runtime) {
    name += " conmon";
  } else if (!identity.container_id.empty()) {
    name += " container";
  }
  if (!identity.container_id.empty()) {
    name += ' ';
    name += std::string_view(identity.container_id).substr(0, kShortIdLength);
  }
  return name;
}

std::string display_name(std::string_view cgroup_path) {
  if (const auto identity = parse_pod_identity(cgroup_path)) {
    return display_name(*identity);
  }
  return std::string(cgroup_path);
}

}  // namespace cgmm::k8s
