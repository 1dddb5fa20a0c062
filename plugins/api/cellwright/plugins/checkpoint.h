#pragma once
// Checkpoints of a CellModel: parameters and buffers plus what is needed to rebuild the
// model (plugin name, normalised config, ModelShape), in one torch archive
// (torch::serialize::OutputArchive). Written atomically.
#include <filesystem>
#include <string>
#include <vector>

#include "cellwright/plugins/model_plugin.h"

namespace cw::plugins {

class PluginRegistry;

struct CheckpointInfo {
  std::string pluginName;
  nlohmann::json config;
  ModelShape shape;
  nlohmann::json extra;  // caller's own record (epoch, optimiser settings, label names ...)
};

// Saves `model` (its config and shape included) and `extra`.
void saveCheckpoint(const CellModel& model, const std::filesystem::path& path,
                    const nlohmann::json& extra = nlohmann::json::object());

// Reads only the header (plugin, config, shape, extra).
CheckpointInfo readCheckpointInfo(const std::filesystem::path& path);

// Rebuilds the model through the registry and loads every tensor exactly.
std::shared_ptr<CellModel> loadCheckpoint(const std::filesystem::path& path, const PluginRegistry& registry,
                                          CheckpointInfo* info = nullptr);

struct LoadParametersOptions {
  // Skip tensors missing from the file or of another shape (e.g. a classification head
  // after pre-training, or one for another number of classes) instead of failing.
  bool allowPartial = false;
};
struct LoadParametersResult {
  std::vector<std::string> loaded;
  std::vector<std::string> skipped;  // name: reason
};
// Loads tensors from a checkpoint into an existing model (fine-tuning from pre-training).
LoadParametersResult loadParameters(CellModel& model, const std::filesystem::path& path,
                                    const LoadParametersOptions& options = {});

}  // namespace cw::plugins
