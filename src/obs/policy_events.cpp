// The text and JSON fields of the policy file's events (obs/events.h).
#include "core/rules.h"
#include "obs/event_fields.h"

namespace cgmm::obs {

std::string PolicyLoaded::text() const {
  std::string s = std::string(reload ? "reloaded" : "read") + " policy " + std::string(file) +
                  ": " + std::to_string(rules.size()) + (rules.size() == 1 ? " rule" : " rules");
  const char* sep = " (";
  for (const auto& rule : rules.all()) {
    s += sep + rule->name;
    sep = ", ";
  }
  return rules.size() > 0 ? s + ")" : s;
}

void PolicyLoaded::fields(Json& j) const {
  j["file"] = file;
  j["reload"] = reload;
  Json names = Json::array();
  for (const auto& rule : rules.all()) {
    names.push_back(rule->name);
  }
  j["rules"] = std::move(names);
}

std::string PolicyReloadFailed::text() const {
  return "failed to reload the policy: " + std::string(error) + "; keeping the " +
         std::to_string(rules_kept) + (rules_kept == 1 ? " rule" : " rules") + " read before";
}

void PolicyReloadFailed::fields(Json& j) const {
  j["file"] = file;
  j["error"] = error;
  j["rules_kept"] = rules_kept;
}

std::string PolicyUnwatched::text() const {
  return "failed to watch " + std::string(dir) + " for changes of the policy: " + std::string(why) +
         "; reload it with SIGHUP";
}

void PolicyUnwatched::fields(Json& j) const {
  j["dir"] = dir;
  j["error"] = why;
}

}  // namespace cgmm::obs
