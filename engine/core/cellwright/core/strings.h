#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace cw {

std::vector<std::string> splitString(std::string_view text, char separator);
std::string joinStrings(const std::vector<std::string>& parts, std::string_view separator);
std::string toLower(std::string_view text);
bool startsWith(std::string_view text, std::string_view prefix);
bool endsWith(std::string_view text, std::string_view suffix);

// anndata's var_names_make_unique: the second "A" becomes "A-1", the third "A-2", ...
// Returns how many names were changed.
size_t makeUnique(std::vector<std::string>& names);

}  // namespace cw
