#pragma once
// JSON round trip for plain config structs. A config struct lists its fields once:
//
//   struct MyConfig {
//     int64_t layers = 2;  // documented default
//     template <class Visit> void visitFields(Visit&& v) { v("layers", layers); }
//   };
//
// and gets configToJson / configFromJson for free. Reading starts from a base config (the
// defaults or a preset), overrides only the keys present, and rejects unknown keys so a
// typo in a settings file is an error, not a silently ignored setting.
#include <set>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "cellwright/core/errors.h"

namespace cw::plugins {

template <class Config>
nlohmann::json configToJson(const Config& config) {
  nlohmann::json out = nlohmann::json::object();
  Config copy = config;
  copy.visitFields([&](const char* key, auto& value) { out[key] = value; });
  return out;
}

// `modelName` only phrases the error messages.
template <class Config>
Config configFromJson(const nlohmann::json& json, Config base, const std::string& modelName) {
  if (json.is_null()) return base;
  if (!json.is_object()) throw cw::Error("The " + modelName + " settings must be a JSON object");
  std::set<std::string> known;
  base.visitFields([&](const char* key, auto& value) {
    known.insert(key);
    auto it = json.find(key);
    if (it == json.end()) return;
    try {
      value = it->template get<std::decay_t<decltype(value)>>();
    } catch (const nlohmann::json::exception&) {
      throw cw::Error("The " + modelName + " setting '" + key + "' has the wrong type: " + it->dump());
    }
  });
  for (const auto& item : json.items())
    if (!known.count(item.key()))
      throw cw::Error("Unknown " + modelName + " setting '" + item.key() + "'");
  return base;
}

}  // namespace cw::plugins
