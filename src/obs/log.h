#pragma once

#include <optional>
#include <string_view>

// The logging library stays inside log.cpp and events.cpp: every file that logs includes this
// header, and the library's headers cost more to compile than most of those files.
namespace cgmm::obs {

// Most verbose first; kOff logs nothing.
enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

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

// Writes one line at `level` (obs/events.h writes the events). In the JSON format the line is
// the object's members without its braces: the pattern adds them around the time and level.
void write_line(Level level, std::string_view line);

// The format set by setup_logging.
LogFormat log_format();

}  // namespace cgmm::obs
