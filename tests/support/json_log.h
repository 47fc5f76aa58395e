#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
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

// A log line's "time", "2026-11-29T08:47:36.342Z", as a time point.
inline std::chrono::system_clock::time_point parse_log_time(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    throw std::runtime_error("bad log time " + text);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(::timegm(&tm)) + std::chrono::milliseconds(ms);
}

}  // namespace cgmm::testing
