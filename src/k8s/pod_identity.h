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
  // The runtime's monitor (conmon, of CRI-O and podman), not a container: its memory is the
  // runtime's, and it is never reclaimed. `container_id` is the container it watches, or empty
  // for podman's cgroupfs `conmon`, which watches every container beside it.
  bool runtime = false;

  bool operator==(const PodIdentity&) const = default;
};

// Parses a cgroup path, relative or absolute, with any prefix before the kubelet's root
// (/sys/fs/cgroup/memory/ on v1, /sys/fs/cgroup/ on v2, or none), for both cgroup drivers:
//   cgroupfs: kubepods[/burstable|/besteffort]/pod<uid>[/<id>|/crio-<id>[/container]
//             |/crio-conmon-<id>|/libpod-<id>|/conmon]
//   systemd: kubepods.slice[/kubepods-<qos>.slice]/kubepods[-<qos>]-pod<uid_with_underscores>.slice
//             [/cri-containerd-<id>.scope|/crio-<id>.scope[/container]|/docker-<id>.scope
//             |/crio-conmon-<id>.scope|/libpod-<id>.scope[/container]|/libpod-conmon-<id>.scope]
// The systemd slice prefix may itself be nested (kubelet-kubepods.slice, as kind uses).
// crun on the systemd driver puts the container's processes in a `container` child of the
// container's cgroup (CRI-O's or podman's), which then is no leaf: that child is the container,
// its id on the parent. Conmon's cgroups (CRI-O's crio-conmon-<id>, podman's libpod-conmon-<id>
// on systemd and `conmon` beside its containers on cgroupfs) parse with `runtime` set. podman's
// names are those of a container run with --cgroup-parent set to a pod's cgroup; podman's own
// pods (libpod_parent/<pod id>/..., machine-libpod_pod_<pod id>.slice/...) have no pod UID and
// are not parsed. Container ids are 64 lowercase hex digits. Returns nullopt for anything else,
// including unknown children of a pod and any other cgroup nested in a container.
std::optional<PodIdentity> parse_pod_identity(std::string_view cgroup_path);

std::string_view to_string(QosClass qos);

// "pod <uid> container <first 12 hex digits>", "pod <uid> conmon <first 12 hex digits>" for a
// runtime cgroup ("pod <uid> conmon" for podman's cgroupfs one), "pod <uid>" for a pod-level
// cgroup.
std::string display_name(const PodIdentity& identity);

// The display name of the identity parsed from the path, or the path itself.
std::string display_name(std::string_view cgroup_path);

}  // namespace cgmm::k8s
