#include "cellwright/plugins/plugin_registry.h"

#include <dlfcn.h>

#include <algorithm>
#include <fstream>

#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"

namespace cw::plugins {

namespace {

void checkIid(const std::string& iid, const std::string& who) {
  const int major = iidMajorVersion(iid);
  if (major < 0)
    throw cw::Error(who + " is not a Cellwright model plugin (interface '" + iid + "')");
  if (major != kModelPluginMajorVersion)
    throw cw::Error(who + " was built for model-plugin interface version " + std::to_string(major) +
                    ", this Cellwright needs version " + std::to_string(kModelPluginMajorVersion));
}

using CreateFunction = ModelPlugin* (*)();
using IidFunction = const char* (*)();

std::shared_ptr<ModelPlugin> openLibrary(const std::filesystem::path& library) {
  // RTLD_LOCAL: two plugins may carry their own copies of helper symbols.
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw cw::Error("Cannot load plugin library " + library.string() + ": " + (why ? why : "unknown error"));
  }
  auto iid = reinterpret_cast<IidFunction>(dlsym(handle, CELLWRIGHT_PLUGIN_IID_SYMBOL));
  auto create = reinterpret_cast<CreateFunction>(dlsym(handle, CELLWRIGHT_PLUGIN_ENTRY_SYMBOL));
  if (!iid || !create) {
    dlclose(handle);
    throw cw::Error("Plugin library " + library.string() + " does not export a Cellwright model plugin");
  }
  try {
    checkIid(iid(), "Plugin library " + library.filename().string());
  } catch (...) {
    dlclose(handle);
    throw;
  }
  // The handle is deliberately never closed: models and tensors made by the plugin may
  // outlive the registry.
  return std::shared_ptr<ModelPlugin>(create());
}

}  // namespace

PluginRegistry& PluginRegistry::global() {
  static PluginRegistry registry;
  return registry;
}

void PluginRegistry::add(std::shared_ptr<ModelPlugin> plugin, const std::string& origin) {
  if (!plugin) throw cw::Error("Cannot register an empty model plugin from " + origin);
  PluginMetadata metadata = plugin->metadata();
  checkIid(metadata.iid, "The plugin '" + metadata.name + "' from " + origin);
  if (metadata.name.empty()) throw cw::Error("A model plugin from " + origin + " has no name");
  if (entries_.count(metadata.name))
    throw cw::Error("Two model plugins are called '" + metadata.name + "' (" + entries_.at(metadata.name).origin +
                    " and " + origin + ")");
  entries_.emplace(metadata.name, Entry{std::move(plugin), metadata, origin});
}

PluginMetadata readPluginMetadataFile(const std::filesystem::path& jsonPath) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(cw::readTextFile(jsonPath));
  } catch (const nlohmann::json::exception& e) {
    throw cw::Error("Plugin metadata " + jsonPath.string() + " is not valid JSON: " + e.what());
  }
  PluginMetadata metadata = PluginMetadata::fromJson(json);
  checkIid(metadata.iid, "The plugin described by " + jsonPath.filename().string());
  if (metadata.library.empty())
    throw cw::Error("Plugin metadata " + jsonPath.string() + " does not name its library");
  return metadata;
}

LoadFolderResult PluginRegistry::loadFolder(const std::filesystem::path& folder, const LoadFolderOptions& options) {
  if (!std::filesystem::is_directory(folder)) throw cw::Error("Plugin folder " + folder.string() + " does not exist");
  std::vector<std::filesystem::path> sidecars;
  auto collect = [&](const std::filesystem::directory_entry& entry) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") sidecars.push_back(entry.path());
  };
  if (options.recursive)
    for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) collect(entry);
  else
    for (const auto& entry : std::filesystem::directory_iterator(folder)) collect(entry);
  std::sort(sidecars.begin(), sidecars.end());

  LoadFolderResult result;
  for (const auto& sidecar : sidecars) {
    try {
      const PluginMetadata metadata = readPluginMetadataFile(sidecar);  // before any dlopen
      if (entries_.count(metadata.name)) throw cw::Error("a plugin called '" + metadata.name + "' is already loaded");
      const auto library = sidecar.parent_path() / metadata.library;
      if (!std::filesystem::exists(library)) throw cw::Error("its library " + metadata.library + " is missing");
      auto plugin = openLibrary(library);
      if (plugin->metadata().name != metadata.name)
        throw cw::Error("the library calls itself '" + plugin->metadata().name + "', the JSON '" + metadata.name + "'");
      add(std::move(plugin), library.string());
      result.loaded.push_back(metadata.name);
    } catch (const cw::Error& e) {
      result.skipped.emplace_back(sidecar.string(), e.what());
    }
  }
  return result;
}

bool PluginRegistry::contains(const std::string& name) const { return entries_.count(name) > 0; }

std::shared_ptr<ModelPlugin> PluginRegistry::pluginPtr(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string names;
    for (const auto& [key, entry] : entries_) names += (names.empty() ? "" : ", ") + key;
    throw cw::Error("Unknown model '" + name + "' (available: " + (names.empty() ? "none" : names) + ")");
  }
  return it->second.plugin;
}

const ModelPlugin& PluginRegistry::plugin(const std::string& name) const { return *pluginPtr(name); }

std::vector<PluginMetadata> PluginRegistry::list() const {
  std::vector<PluginMetadata> out;
  for (const auto& [name, entry] : entries_) out.push_back(entry.metadata);
  return out;
}

std::string PluginRegistry::origin(const std::string& name) const {
  pluginPtr(name);
  return entries_.at(name).origin;
}

std::shared_ptr<CellModel> PluginRegistry::makeModel(const std::string& name, const nlohmann::json& config,
                                                     const ModelShape& shape) const {
  const ModelPlugin& p = plugin(name);
  return p.makeModel(p.normalizeConfig(config), shape);
}

}  // namespace cw::plugins
