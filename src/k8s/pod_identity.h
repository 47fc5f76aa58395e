#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cgmm::k8s {

enum class QosClass { kGuaranteed, kBurstable, kBestEffort };

// What the kubelet's cgroup layout says about one cgroup.
struct PodIdentity {
  std::string pod_uid;       // with dashes, as the API server shows it
  std::string container_id;  // empty for the pod-level cgroup
  QosClass qos = QosClass::kGuaranteed;

  bool operator==(const PodIdentity&) const = default;
};

// Parses a cgroup path, relative or absolute, with any prefix before the kubelet's root
// (/sys/fs/cgroup/memory/ on v1, /sys/fs/cgroup/ on v2, or none), for both cgroup drivers:
//   cgroupfs: kubepods[/burstable|/besteffort]/pod<uid>[/<id>|/crio-<id>]
//   systemd: kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid_with_underscores>.slice
//             [/cri-containerd-<id>.scope|/crio-<id>.scope|/docker-<id>.scope]
// The systemd slice prefix may itself be nested (kubelet-kubepods.slice, as kind uses).
// Container ids are 64 lowercase hex digits. Returns nullopt for anything else, including CRI-O's
// conmon scopes (crio-conmon-<id>), unknown children of a pod and cgroups nested in a container.
std::optional<PodIdentity> parse_pod_identity(std::string_view cgroup_path);

std::string_view to_string(QosClass qos);

// "pod <uid> container <first 12 hex digits>", "pod <uid>" for a pod-level cgroup.
std::string display_name(const PodIdentity& identity);

// The display name of the identity parsed from the path, or the path itself.
std::string display_name(std::string_view cgroup_path);

}  // namespace cgmm::k8s
