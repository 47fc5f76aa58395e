#pragma once

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace cgmm::testing {

// The JSON log lines (--log-format json) in `log` whose "event" is `event` and, when `cgroup` is
// not empty, whose "cgroup" ends with it.
inline std::vector<nlohmann::json> events(const std::string& log, const std::string& event,
                                          const std::string& cgroup = "") {
  std::vector<nlohmann::json> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("event", "") != event) {
      continue;
    }
    const std::string c = j.value("cgroup", "");
    if (!cgroup.empty() &&
        (c.size() < cgroup.size() || c.compare(c.size() - cgroup.size(), cgroup.size(), cgroup))) {
      continue;
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace cgmm::testing
