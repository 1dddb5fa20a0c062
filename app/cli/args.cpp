#include "cellwright/cli/args.h"

#include <cstdlib>

#include "cellwright/core/strings.h"

namespace cw::cli {

static std::vector<std::string> aliasesOf(const OptionSpec& spec) { return splitString(spec.name, '|'); }

Args::Args(const std::vector<std::string>& tokens, const std::vector<OptionSpec>& specs, int minPositionals,
           int maxPositionals)
    : specs_(specs) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string token = tokens[i];
    const bool isOption = token.size() > 1 && token[0] == '-' && !(token.size() > 1 && std::isdigit(token[1]));
    if (!isOption) {
      positionals_.push_back(token);
      continue;
    }
    std::string inlineValue;
    bool hasInline = false;
    if (auto eq = token.find('='); eq != std::string::npos && startsWith(token, "--")) {
      inlineValue = token.substr(eq + 1);
      token = token.substr(0, eq);
      hasInline = true;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs_)
      for (const auto& alias : aliasesOf(s))
        if (alias == token) spec = &s;
    if (!spec) throw UsageError("unknown option " + token);
    const std::string key = aliasesOf(*spec).front();
    if (!spec->takesValue) {
      if (hasInline) throw UsageError(token + " takes no value");
      values_[key] = "1";
      continue;
    }
    if (hasInline) {
      values_[key] = inlineValue;
    } else {
      if (i + 1 >= tokens.size()) throw UsageError(token + " needs a value");
      values_[key] = tokens[++i];
    }
  }
  const int n = static_cast<int>(positionals_.size());
  if (n < minPositionals) throw UsageError("missing argument");
  if (maxPositionals >= 0 && n > maxPositionals) throw UsageError("unexpected argument '" + positionals_[maxPositionals] + "'");
}

std::string Args::canonical(const std::string& name) const {
  for (const auto& s : specs_) {
    auto aliases = aliasesOf(s);
    for (const auto& a : aliases)
      if (a == name) return aliases.front();
  }
  return name;
}

bool Args::has(const std::string& name) const { return values_.count(canonical(name)) != 0; }

std::optional<std::string> Args::optional(const std::string& name) const {
  auto it = values_.find(canonical(name));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::value(const std::string& name) const {
  if (auto v = optional(name)) return *v;
  const std::string key = canonical(name);
  for (const auto& s : specs_)
    if (aliasesOf(s).front() == key && !s.defaultValue.empty()) return s.defaultValue;
  throw UsageError(key + " is required");
}

double Args::number(const std::string& name) const {
  const std::string text = value(name);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') throw UsageError(canonical(name) + " expects a number, got '" + text + "'");
  return v;
}

long long Args::integer(const std::string& name) const {
  const std::string text = value(name);
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') throw UsageError(canonical(name) + " expects an integer, got '" + text + "'");
  return v;
}

}  // namespace cw::cli
