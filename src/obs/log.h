#pragma once

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace cgmm::obs {

using Level = spdlog::level::level_enum;

enum class LogFormat { kText, kJson };

// "trace", "debug", "info", "warn" (or "warning"), "error", "off"; any case.
std::optional<Level> parse_level(std::string_view text);
std::optional<LogFormat> parse_format(std::string_view text);

// Logs go to stderr, one line per event (obs/events.h) (stdout is for the --once report). Text
// lines read
// "<UTC time> <level> <message>"; JSON lines are one object with "time", "level", "event", "msg"
// and the event's fields.
void setup_logging(Level level, LogFormat format);

bool log_enabled(Level level);

// The format set by setup_logging.
LogFormat log_format();

}  // namespace cgmm::obs
