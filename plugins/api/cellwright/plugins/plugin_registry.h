#pragma once
// The model-plugin registry. Built-in models and third-party plugins enter it the same way,
// through add(): it checks the IID major version and the name, then owns the plugin.
//
// Loading is Qt-free:
//  - built-ins: cw::plugins::registerBuiltinPlugins(registry) (target
//    cellwright::plugins_builtin) calls add() for each model compiled into the program;
//  - third-party: loadFolder(dir) reads every `*.json` sidecar in `dir`, checks its IID
//    major version BEFORE touching the library, then dlopen()s the `library` it names
//    (same folder), checks the IID the library reports, and calls its entry symbol
//    (CELLWRIGHT_EXPORT_MODEL_PLUGIN in model_plugin.h). Libraries stay loaded for the
//    life of the process (models built by them may outlive the registry).
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cellwright/plugins/model_plugin.h"

namespace cw::plugins {

struct LoadFolderOptions {
  bool recursive = false;  // also look in sub-folders
};

struct LoadFolderResult {
  std::vector<std::string> loaded;                         // plugin names added
  std::vector<std::pair<std::string, std::string>> skipped;  // file, one-line reason
};

class PluginRegistry {
 public:
  PluginRegistry() = default;
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // The process-wide registry (built-ins are NOT added automatically; call
  // registerBuiltinPlugins once at start-up).
  static PluginRegistry& global();

  // Adds a plugin under metadata.name. `origin` says where it came from ("built-in" or the
  // library path). Throws cw::Error on an incompatible IID or a duplicate name.
  void add(std::shared_ptr<ModelPlugin> plugin, const std::string& origin = "built-in");

  LoadFolderResult loadFolder(const std::filesystem::path& folder, const LoadFolderOptions& options = {});

  bool contains(const std::string& name) const;
  // Throws cw::Error listing the available names when `name` is unknown.
  const ModelPlugin& plugin(const std::string& name) const;
  std::shared_ptr<ModelPlugin> pluginPtr(const std::string& name) const;
  std::vector<PluginMetadata> list() const;  // sorted by name
  std::string origin(const std::string& name) const;

  // Convenience: plugin(name).makeModel(plugin(name).normalizeConfig(config), shape).
  std::shared_ptr<CellModel> makeModel(const std::string& name, const nlohmann::json& config,
                                       const ModelShape& shape) const;

 private:
  struct Entry {
    std::shared_ptr<ModelPlugin> plugin;
    PluginMetadata metadata;
    std::string origin;
  };
  std::map<std::string, Entry> entries_;
};

// Reads and checks a sidecar metadata file (no library is loaded). Throws cw::Error.
PluginMetadata readPluginMetadataFile(const std::filesystem::path& jsonPath);

}  // namespace cw::plugins
