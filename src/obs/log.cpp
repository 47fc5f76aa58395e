#include "obs/log.h"

#include <spdlog/sinks/stdout_sinks.h>

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

}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  const std::string l = lower(text);
  if (l == "trace")
    return Level::trace;
  if (l == "debug")
    return Level::debug;
  if (l == "info")
    return Level::info;
  if (l == "warn" || l == "warning")
    return Level::warn;
  if (l == "error")
    return Level::err;
  if (l == "off")
    return Level::off;
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
  logger->set_level(level);
  logger->flush_on(Level::trace);
  spdlog::set_default_logger(std::move(logger));
}

bool log_enabled(Level level) {
  return spdlog::default_logger_raw()->should_log(level);
}

LogFormat log_format() {
  return g_format;
}

}  // namespace cgmm::obs
