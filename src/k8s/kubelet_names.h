#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/leaf_sample.h"

// Kubernetes names from the node, without the API: the kubelet's two log trees.
//   /var/log/pods/<namespace>_<pod>_<pod-uid>/<container>/<restart>.log  (a directory per pod)
//   /var/log/containers/<pod>_<namespace>_<container>-<container-id>.log  (a symlink per
//   container; none for the pod's sandbox, the pause container)
// Namespaces, pod names and container names never contain '_'. The kubelet builds a link's name
// as "<pod>_<namespace>_<container>-<id>" and, when that is longer than 251 bytes (255 less
// ".log"), keeps its first 251 bytes before appending ".log": a long pod name cuts the end off
// the container id, and in extreme cases the cut falls inside the container name.
namespace cgmm::k8s {

struct PodLogDir {
  std::string namespace_name;
  std::string pod;
  std::string pod_uid;

  bool operator==(const PodLogDir&) const = default;
};

// "<namespace>_<pod>_<pod-uid>": exactly three non-empty parts; nullopt for anything else. The
// parts are taken as they are: no character is special.
std::optional<PodLogDir> parse_pod_log_dir(std::string_view dir_name);

struct ContainerLogLink {
  std::string pod;
  std::string namespace_name;
  std::string container;
  // The container id, 64 lowercase hex digits, or fewer when the kubelet cut the name.
  std::string id_prefix;

  bool operator==(const ContainerLogLink&) const = default;
};

// "<pod>_<namespace>_<container>-<id>.log": three non-empty '_'-separated parts before ".log", the
// last split at its last '-'. The id is lowercase hex, 64 digits long, or shorter only when the
// name without ".log" is exactly the kubelet's 251 bytes. nullopt for anything else. A cut inside
// the container name whose remnant after a '-' happens to be hex cannot be told from a cut id: the
// container then reads as the part before that '-'.
std::optional<ContainerLogLink> parse_container_log_link(std::string_view file_name);

// The names the two trees hold, in memory. Entries are added and removed by their file names, as
// a listing or an inotify event gives them; malformed names are ignored, adding a name again and
// removing an unknown one change nothing.
class NameTable {
 public:
  void add_pod_dir(std::string_view dir_name);
  void remove_pod_dir(std::string_view dir_name);
  void add_container_link(std::string_view file_name);
  void remove_container_link(std::string_view file_name);
  // Forgets everything: later lookups get new Workloads.
  void clear();

  // The workload of a pod's cgroup (empty `container_id`) or of one of its containers. The pod
  // directory names the namespace and pod; a link with the full id names the container; a cut
  // link names it when its id is a prefix of `container_id` and its pod and namespace are the
  // pod directory's (when that is known). Cut links of the pod that match and disagree on the
  // container leave it unknown. Returns null when nothing is known, else what is known: an empty
  // container for the pod's cgroup, its pause container or a container not (yet) linked;
  // namespace and pod from the link when the pod directory is missing. An entry that has not
  // changed gives the same pointer on every lookup; keeping it costs a reference count.
  std::shared_ptr<const core::Workload> find(std::string_view pod_uid,
                                             std::string_view container_id) const;

  size_t pod_count() const { return pods_.size(); }
  size_t link_count() const { return links_.size() + cut_links_.size(); }

 private:
  struct CutLink {
    std::string id_prefix;
    std::shared_ptr<const core::Workload> workload;
    // The same namespace and pod without the container: for a pod directory not known.
    std::shared_ptr<const core::Workload> pod;
  };

  // Looked up by string_view without a copy of the key.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  using ByKey = std::unordered_map<std::string, std::shared_ptr<const core::Workload>, KeyHash,
                                   std::equal_to<>>;

  std::shared_ptr<const core::Workload> find_cut(const std::shared_ptr<const core::Workload>& pod,
                                                 std::string_view container_id) const;

  ByKey pods_;   // by pod uid
  ByKey links_;  // by full container id
  // Links whose id the kubelet cut: rare (pod names near their 253-byte limit), searched in full.
  std::vector<CutLink> cut_links_;
};

}  // namespace cgmm::k8s
