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
  // The runtime's monitor of the container `container_id` (CRI-O's conmon), not the container:
  // its memory is the runtime's, and it is never reclaimed.
  bool runtime = false;

  bool operator==(const PodIdentity&) const = default;
};

// Parses a cgroup path, relative or absolute, with any prefix before the kubelet's root
// (/sys/fs/cgroup/memory/ on v1, /sys/fs/cgroup/ on v2, or none), for both cgroup drivers:
//   cgroupfs: kubepods[/burstable|/besteffort]/pod<uid>[/<id>|/crio-<id>[/container]
//             |/crio-conmon-<id>]
//   systemd: kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid_with_underscores>.slice
//             [/cri-containerd-<id>.scope|/crio-<id>.scope[/container]|/docker-<id>.scope
//             |/crio-conmon-<id>.scope]
// The systemd slice prefix may itself be nested (kubelet-kubepods.slice, as kind uses).
// crun under CRI-O (systemd driver, cgroup v2) puts the container's processes in a `container`
// child of CRI-O's cgroup, which then is no leaf: that child is the container, its id on the
// parent. CRI-O's conmon cgroups (crio-conmon-<id>) parse with `runtime` set. Container ids are 64
// lowercase hex digits. Returns nullopt for anything else, including unknown children of a pod and
// any other cgroup nested in a container.
std::optional<PodIdentity> parse_pod_identity(std::string_view cgroup_path);

std::string_view to_string(QosClass qos);

// "pod <uid> container <first 12 hex digits>", "pod <uid> conmon <first 12 hex digits>" for a
// runtime cgroup, "pod <uid>" for a pod-level cgroup.
std::string display_name(const PodIdentity& identity);

// The display name of the identity parsed from the path, or the path itself.
std::string display_name(std::string_view cgroup_path);

}  // namespace cgmm::k8s
