#pragma once

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace cgmm::obs {

using Level = spdlog::level::level_enum;

enum class LogFormat { kText, kJson };

// "trace", "debug", "info", "warn" (or "warning"), "error", "off"; any case.
std::optional<Level> parse_level(std::string_view text);
std::optional<LogFormat> parse_format(std::string_view text);

// Logs go to stderr, one line per event (stdout is for the --once report). Text lines read
// "<UTC time> <level> <message>"; JSON lines are one object with "time", "level", "event", "msg"
// and the event's fields.
void setup_logging(Level level, LogFormat format);

bool log_enabled(Level level);

struct Field {
  const char* key;
  nlohmann::json value;
};

// One event: `event` names it for machines ("reclaim", "cgroup_appeared", ...), `message` is the
// human line, `fields` carry the values with stable names (see README, "Logs").
void log_event(Level level, const char* event, std::string_view message,
               std::initializer_list<Field> fields = {});

}  // namespace cgmm::obs
