#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/leaf_sample.h"
#include "core/units.h"
#include "obs/events.h"

// What the events' texts and fields share (events.cpp and the files beside it): how a leaf is
// named in a message and labelled in JSON, and how durations and optional values are written.
namespace cgmm::obs {

double seconds(core::Duration d);
// "limit 400.0 MiB", "high limit 200.0 MiB" (v2 memory.high), "limit none".
std::string limit_text(const core::MemoryStats& stats);
// The value, or null.
Json optional_json(const std::optional<uint64_t>& v);

// A leaf as messages name it: "<namespace>/<pod>/<container>" when the node names its container,
// "<namespace>/<pod> container <id>" (or "pod <uid> container <id>") when it names less, else its
// cgroup path. A runtime's cgroup (CRI-O's or podman's conmon) says "conmon" where a container's
// says "container".
std::string display(std::string_view cgroup, const core::LeafContext& context);
// The same with the rule that decided it: "db-1/postgres-0/postgres (rule databases)".
std::string display_ruled(std::string_view cgroup, const core::LeafContext& context);
// The cgroup, what the kubelet's layout and names say of it (empty where unknown), and its rule.
void leaf_fields(Json& j, std::string_view cgroup, const core::LeafContext& context);

}  // namespace cgmm::obs
