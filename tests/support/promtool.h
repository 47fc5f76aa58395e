#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace cgmm::testing {

struct PromtoolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `promtool check metrics` (Debian's prometheus package) with `exposition` on stdin.
PromtoolResult promtool_check_metrics(std::string_view exposition);

bool promtool_installed();

// Skips the test when promtool is missing, except under CI (the CI environment variable set),
// where a missing promtool fails it.
#define CGMM_REQUIRE_PROMTOOL()                                                  \
  do {                                                                           \
    if (!::cgmm::testing::promtool_installed()) {                                \
      if (std::getenv("CI") != nullptr) {                                        \
        FAIL() << "promtool is not installed; run scripts/setup.sh prometheus";  \
      }                                                                          \
      GTEST_SKIP() << "promtool is not installed (scripts/setup.sh prometheus)"; \
    }                                                                            \
  } while (0)

}  // namespace cgmm::testing
