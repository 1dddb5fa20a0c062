#include "cellwright/core/strings.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace cw {

std::vector<std::string> splitString(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(separator, start);
    if (pos == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      break;
    }
    parts.emplace_back(text.substr(start, pos - start));
    start = pos + 1;
  }
  return parts;
}

std::string joinStrings(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return out;
}

std::string toLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool startsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

size_t makeUnique(std::vector<std::string>& names) {
  // As anndata.utils.make_index_unique: duplicates get "-1", "-2", ... skipping names taken.
  std::unordered_map<std::string, int> seen;
  std::unordered_set<std::string> taken(names.begin(), names.end());
  size_t changed = 0;
  for (auto& name : names) {
    auto [it, inserted] = seen.emplace(name, 0);
    if (inserted) continue;
    std::string candidate;
    do {
      candidate = name + "-" + std::to_string(++it->second);
    } while (taken.count(candidate));
    taken.insert(candidate);
    name = candidate;
    ++changed;
  }
  return changed;
}

}  // namespace cw
