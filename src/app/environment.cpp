#include "app/environment.h"

#include <cctype>
#include <cstdlib>
#include <optional>

#include "app/config.h"

namespace cgmm::app {

namespace {

std::optional<bool> parse_bool(const std::string& text) {
  std::string l;
  for (char c : text) {
    l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (l == "true" || l == "yes" || l == "on" || l == "1") {
    return true;
  }
  if (l == "false" || l == "no" || l == "off" || l == "0") {
    return false;
  }
  return std::nullopt;
}

}  // namespace

CLI::Option* Environment::add(CLI::Option* option, const char* variable, Target target) {
  entries_.push_back({option, variable, target, false});
  return option;
}

void Environment::show_in_help() {
  for (const Entry& e : entries_) {
    e.option->envname(e.variable);
  }
}

void Environment::apply() {
  for (Entry& e : entries_) {
    const char* value = std::getenv(e.variable);
    if (e.option->count() > 0 || value == nullptr || *value == '\0') {
      continue;
    }
    e.used = true;
    if (std::string** text = std::get_if<std::string*>(&e.target)) {
      **text = value;
    } else if (auto flag = parse_bool(value)) {
      *std::get<bool*>(e.target) = *flag;
    } else {
      throw UsageError("invalid " + std::string(e.variable) + ": \"" + value +
                       "\" is not true or false (also yes/no, on/off, 1/0)");
    }
  }
}

std::string Environment::text(const CLI::Option* option) const {
  if (option->count() > 0) {
    return option->results().back();
  }
  for (const Entry& e : entries_) {
    if (e.option == option) {
      const char* value = std::getenv(e.variable);
      return value ? value : "";
    }
  }
  return "";
}

bool Environment::given(const CLI::Option* option) const {
  return option->count() > 0 || from_variable(option) != nullptr;
}

std::string Environment::name(const CLI::Option* option) const {
  const char* variable = from_variable(option);
  return variable ? variable : option->get_name();
}

const char* Environment::from_variable(const CLI::Option* option) const {
  for (const Entry& e : entries_) {
    if (e.option == option && e.used) {
      return e.variable;
    }
  }
  return nullptr;
}

}  // namespace cgmm::app
