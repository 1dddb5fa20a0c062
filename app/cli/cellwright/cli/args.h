#pragma once
// A small, strict command-line parser: each command declares its options; anything else is
// a usage error (exit code 2 in the contract).
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cw::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;         // "--n-comps"; a short alias may follow after '|': "--output|-o"
  bool takesValue = true;   // false: a flag
  std::string help;
  std::string defaultValue; // shown in help; also returned by value() when absent
};

class Args {
 public:
  // Parses `tokens` (the words after the subcommand). Throws UsageError.
  Args(const std::vector<std::string>& tokens, const std::vector<OptionSpec>& specs, int minPositionals,
       int maxPositionals);

  bool has(const std::string& name) const;
  bool flag(const std::string& name) const { return has(name); }
  // The option's value, its declared default when absent, or UsageError if neither exists.
  std::string value(const std::string& name) const;
  std::optional<std::string> optional(const std::string& name) const;
  double number(const std::string& name) const;
  long long integer(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::string canonical(const std::string& name) const;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
  std::vector<OptionSpec> specs_;
};

}  // namespace cw::cli
