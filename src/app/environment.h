#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <variant>
#include <vector>

namespace cgmm::app {

// The CGMM_* variables behind the command-line options. CLI11 parses only the command line, so
// its errors are about what was typed there; the variables are read afterwards, for the options
// the command line left out, and a bad value is reported under the variable's name. An empty
// variable counts as unset.
class Environment {
 public:
  // Where the variable's text goes: an option's string, or a flag's bool.
  using Target = std::variant<std::string*, bool*>;

  // Returns `option`.
  CLI::Option* add(CLI::Option* option, const char* variable, Target target);

  // Lets --help show each option's variable.
  void show_in_help();

  // After CLI11 has parsed: sets every target the command line left out from its variable. A
  // flag's variable takes true/false, yes/no, on/off or 1/0 in any case; anything else throws
  // UsageError naming the variable and quoting its value.
  void apply();

  // The text the user gave for `option`: the command line's, also before (or when) CLI11 gave up
  // on the rest of it, else its variable's; empty when neither set it.
  std::string text(const CLI::Option* option) const;

  // Whether the command line or the environment set `option`.
  bool given(const CLI::Option* option) const;

  // What the user set for `option`, for messages: the variable when the value came from it,
  // else the option ("--threshold").
  std::string name(const CLI::Option* option) const;

 private:
  struct Entry {
    CLI::Option* option;
    const char* variable;
    Target target;
    bool used;
  };
  const char* from_variable(const CLI::Option* option) const;

  std::vector<Entry> entries_;
};

}  // namespace cgmm::app
