// What a user (or a half-written ConfigMap) puts in the --policy file: any text either parses into
// rules or is a PolicyError naming the file, never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "app/policy_file.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const cgmm::core::Policy defaults;
  try {
    const cgmm::core::Rules rules = cgmm::app::parse_policy(text, "fuzz.yaml", defaults);
    for (const auto& rule : rules.all()) {
      FUZZ_CHECK(!rule->name.empty());
      FUZZ_CHECK(rule->line >= 1);
    }
  } catch (const cgmm::app::PolicyError& e) {
    FUZZ_CHECK(std::string_view(e.what()).starts_with("policy fuzz.yaml"));
  }
  return 0;
}
