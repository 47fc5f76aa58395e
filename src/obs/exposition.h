#pragma once

#include <string>
#include <string_view>

// The Prometheus text exposition, format 0.0.4: its values, escapes and lines.
namespace cgmm::obs {

// The Content-Type of the text these functions write.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// The sample value as Prometheus parses it: shortest round-trip decimal, NaN, +Inf, -Inf.
std::string format_value(double value);
// Escapes `\`, `"` and newline, as label values require.
std::string escape_label_value(std::string_view value);
// Escapes `\` and newline, as HELP text requires.
std::string escape_help(std::string_view help);

// A metric family: its name, type and help.
struct Family {
  std::string_view name;
  std::string_view type;
  std::string_view help;
};

// Its HELP and TYPE lines.
void append_header(std::string& out, const Family& family);
// One sample line; `labels` is the rendered `a="x",b="y"` text, empty without labels.
void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   std::string_view labels, std::string_view value);
void append_sample(std::string& out, std::string_view name, std::string_view labels, double value);
// `name="value"`, the value escaped.
std::string label(std::string_view name, std::string_view value);

}  // namespace cgmm::obs
