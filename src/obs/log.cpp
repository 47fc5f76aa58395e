#include "obs/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace cgmm::obs {

namespace {

LogFormat g_format = LogFormat::kText;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

spdlog::level::level_enum spdlog_level(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      break;
  }
  return spdlog::level::off;
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  const std::string l = lower(text);
  if (l == "trace")
    return Level::kTrace;
  if (l == "debug")
    return Level::kDebug;
  if (l == "info")
    return Level::kInfo;
  if (l == "warn" || l == "warning")
    return Level::kWarn;
  if (l == "error")
    return Level::kError;
  if (l == "off")
    return Level::kOff;
  return std::nullopt;
}

std::optional<LogFormat> parse_format(std::string_view text) {
  const std::string l = lower(text);
  if (l == "text")
    return LogFormat::kText;
  if (l == "json")
    return LogFormat::kJson;
  return std::nullopt;
}

void setup_logging(Level level, LogFormat format) {
  g_format = format;
  auto logger =
      std::make_shared<spdlog::logger>("cgmm", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == LogFormat::kJson) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-7l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog_level(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

bool log_enabled(Level level) {
  return spdlog::default_logger_raw()->should_log(spdlog_level(level));
}

void write_line(Level level, std::string_view line) {
  spdlog::default_logger_raw()->log(spdlog_level(level), "{}", line);
}

LogFormat log_format() {
  return g_format;
}

}  // namespace cgmm::obs
