#include "k8s/kubelet_names.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace cgmm::k8s {
namespace {

constexpr std::size_t kContainerIdLength = 64;
constexpr std::string_view kLogSuffix = ".log";
// The kubelet keeps a link's name within NAME_MAX (255) with ".log": the rest is cut to this.
constexpr std::size_t kCutNameLength = 255 - kLogSuffix.size();

using Parts = std::array<std::string_view, 3>;

// Exactly three non-empty parts separated by '_'.
std::optional<Parts> split_three(std::string_view name) {
  const auto first = name.find('_');
  if (first == std::string_view::npos) {
    return std::nullopt;
  }
  const auto second = name.find('_', first + 1);
  if (second == std::string_view::npos || name.find('_', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  Parts parts{name.substr(0, first), name.substr(first + 1, second - first - 1),
              name.substr(second + 1)};
  if (std::ranges::any_of(parts, [](std::string_view p) { return p.empty(); })) {
    return std::nullopt;
  }
  return parts;
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool same_pod(const core::Workload& a, const core::Workload& b) {
  return a.namespace_name == b.namespace_name && a.pod == b.pod;
}

// Keeps `slot` when it already holds `workload`, so lookups of an unchanged entry keep their
// pointer.
void assign(std::shared_ptr<const core::Workload>& slot, core::Workload workload) {
  if (!slot || *slot != workload) {
    slot = std::make_shared<const core::Workload>(std::move(workload));
  }
}

core::Workload workload_of(const ContainerLogLink& link) {
  return {link.namespace_name, link.pod, link.container};
}

}  // namespace

std::optional<PodLogDir> parse_pod_log_dir(std::string_view dir_name) {
  const auto parts = split_three(dir_name);
  if (!parts) {
    return std::nullopt;
  }
  return PodLogDir{std::string((*parts)[0]), std::string((*parts)[1]), std::string((*parts)[2])};
}

std::optional<ContainerLogLink> parse_container_log_link(std::string_view file_name) {
  if (!file_name.ends_with(kLogSuffix)) {
    return std::nullopt;
  }
  const std::string_view name = file_name.substr(0, file_name.size() - kLogSuffix.size());
  const auto parts = split_three(name);
  if (!parts) {
    return std::nullopt;
  }
  const std::string_view rest = (*parts)[2];
  const auto dash = rest.rfind('-');
  if (dash == std::string_view::npos || dash == 0) {
    return std::nullopt;
  }
  const std::string_view id = rest.substr(dash + 1);
  const bool cut = name.size() == kCutNameLength;
  if (id.empty() || id.size() > kContainerIdLength || (id.size() < kContainerIdLength && !cut) ||
      !std::ranges::all_of(id, is_hex_digit)) {
    return std::nullopt;
  }
  return ContainerLogLink{std::string((*parts)[0]), std::string((*parts)[1]),
                          std::string(rest.substr(0, dash)), std::string(id)};
}

void NameTable::add_pod_dir(std::string_view dir_name) {
  auto dir = parse_pod_log_dir(dir_name);
  if (!dir) {
    return;
  }
  assign(pods_[dir->pod_uid], {std::move(dir->namespace_name), std::move(dir->pod), {}});
}

void NameTable::remove_pod_dir(std::string_view dir_name) {
  const auto dir = parse_pod_log_dir(dir_name);
  if (!dir) {
    return;
  }
  // Only the directory that named the entry removes it.
  const auto it = pods_.find(dir->pod_uid);
  if (it != pods_.end() && it->second->namespace_name == dir->namespace_name &&
      it->second->pod == dir->pod) {
    pods_.erase(it);
  }
}

void NameTable::add_container_link(std::string_view file_name) {
  auto link = parse_container_log_link(file_name);
  if (!link) {
    return;
  }
  if (link->id_prefix.size() == kContainerIdLength) {
    assign(links_[link->id_prefix], workload_of(*link));
    return;
  }
  core::Workload workload = workload_of(*link);
  // A cut name is all of its link's name: the same prefix with the same names is the same link.
  const bool known = std::ranges::any_of(cut_links_, [&](const CutLink& c) {
    return c.id_prefix == link->id_prefix && *c.workload == workload;
  });
  if (known) {
    return;
  }
  auto pod = std::make_shared<const core::Workload>(
      core::Workload{workload.namespace_name, workload.pod, {}});
  cut_links_.push_back({std::move(link->id_prefix),
                        std::make_shared<const core::Workload>(std::move(workload)),
                        std::move(pod)});
}

void NameTable::remove_container_link(std::string_view file_name) {
  const auto link = parse_container_log_link(file_name);
  if (!link) {
    return;
  }
  const core::Workload workload = workload_of(*link);
  if (link->id_prefix.size() == kContainerIdLength) {
    const auto it = links_.find(link->id_prefix);
    if (it != links_.end() && *it->second == workload) {
      links_.erase(it);
    }
    return;
  }
  std::erase_if(cut_links_, [&](const CutLink& c) {
    return c.id_prefix == link->id_prefix && *c.workload == workload;
  });
}

void NameTable::clear() {
  pods_.clear();
  links_.clear();
  cut_links_.clear();
}

std::shared_ptr<const core::Workload> NameTable::find(std::string_view pod_uid,
                                                      std::string_view container_id) const {
  std::shared_ptr<const core::Workload> pod;
  if (const auto it = pods_.find(pod_uid); it != pods_.end()) {
    pod = it->second;
  }
  if (container_id.empty()) {
    return pod;
  }
  // Ids are unique, but a link that disagrees with the pod's directory is not that pod's.
  if (const auto it = links_.find(container_id);
      it != links_.end() && (!pod || same_pod(*it->second, *pod))) {
    return it->second;
  }
  return find_cut(pod, container_id);
}

std::shared_ptr<const core::Workload> NameTable::find_cut(
    const std::shared_ptr<const core::Workload>& pod, std::string_view container_id) const {
  const CutLink* found = nullptr;
  bool container_known = true;
  for (const CutLink& link : cut_links_) {
    if (!container_id.starts_with(link.id_prefix) || (pod && !same_pod(*link.workload, *pod))) {
      continue;
    }
    if (found == nullptr) {
      found = &link;
    } else if (!same_pod(*found->workload, *link.workload)) {
      return pod;  // links of two pods match: without the pod's directory nothing is known
    } else {
      // Another container of the pod: one container's names are all cut at the same length, so
      // two of its links cannot both match one id.
      container_known = false;
    }
  }
  if (found == nullptr) {
    return pod;
  }
  if (container_known) {
    return found->workload;
  }
  return pod ? pod : found->pod;
}

}  // namespace cgmm::k8s
