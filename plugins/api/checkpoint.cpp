#include "cellwright/plugins/checkpoint.h"

#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/plugins/plugin_registry.h"

namespace cw::plugins {

namespace {

constexpr const char* kHeaderKey = "cellwright_checkpoint_header";
constexpr int kFormatVersion = 1;

// Archive keys may not contain dots (they name nested modules there).
std::string archiveKey(const std::string& name, bool isBuffer) {
  std::string key = (isBuffer ? "buffer:" : "param:") + name;
  for (char& c : key)
    if (c == '.') c = '/';
  return key;
}

torch::serialize::InputArchive openArchive(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw cw::Error("Checkpoint " + path.string() + " does not exist");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string(), torch::kCPU);
  } catch (const c10::Error&) {
    throw cw::Error("Checkpoint " + path.string() + " is not a Cellwright model checkpoint (cannot read it)");
  }
  return archive;
}

nlohmann::json readHeader(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  c10::IValue value;
  if (!archive.try_read(kHeaderKey, value) || !value.isString())
    throw cw::Error("Checkpoint " + path.string() + " has no Cellwright header");
  try {
    return nlohmann::json::parse(value.toStringRef());
  } catch (const nlohmann::json::exception&) {
    throw cw::Error("Checkpoint " + path.string() + " has a damaged header");
  }
}

}  // namespace

void saveCheckpoint(const CellModel& model, const std::filesystem::path& path, const nlohmann::json& extra) {
  torch::serialize::OutputArchive archive;
  const nlohmann::json header = {{"format", kFormatVersion}, {"iid", kModelPluginIid},
                                 {"plugin", model.pluginName()}, {"config", model.config()},
                                 {"shape", model.shape().toJson()}, {"extra", extra}};
  archive.write(kHeaderKey, c10::IValue(header.dump()));
  torch::NoGradGuard noGrad;
  for (const auto& item : model.named_parameters(true))
    archive.write(archiveKey(item.key(), false), item.value().detach().cpu(), false);
  for (const auto& item : model.named_buffers(true))
    archive.write(archiveKey(item.key(), true), item.value().detach().cpu(), true);
  cw::writeAtomically(path, [&](const std::filesystem::path& tmp) { archive.save_to(tmp.string()); });
}

CheckpointInfo readCheckpointInfo(const std::filesystem::path& path) {
  auto archive = openArchive(path);
  const nlohmann::json header = readHeader(archive, path);
  CheckpointInfo info;
  try {
    if (header.at("format").get<int>() > kFormatVersion)
      throw cw::Error("Checkpoint " + path.string() + " was written by a newer Cellwright");
    info.pluginName = header.at("plugin").get<std::string>();
    info.config = header.at("config");
    info.shape = ModelShape::fromJson(header.at("shape"));
    info.extra = header.value("extra", nlohmann::json::object());
  } catch (const nlohmann::json::exception&) {
    throw cw::Error("Checkpoint " + path.string() + " has an incomplete header");
  }
  return info;
}

LoadParametersResult loadParameters(CellModel& model, const std::filesystem::path& path,
                                    const LoadParametersOptions& options) {
  auto archive = openArchive(path);
  readHeader(archive, path);
  LoadParametersResult result;
  torch::NoGradGuard noGrad;
  auto loadOne = [&](const std::string& name, torch::Tensor target, bool isBuffer) {
    torch::Tensor stored;
    std::string problem;
    if (!archive.try_read(archiveKey(name, isBuffer), stored, isBuffer))
      problem = "missing from the checkpoint";
    else if (stored.sizes() != target.sizes())
      problem = "has shape " + c10::str(stored.sizes()) + " in the checkpoint, " + c10::str(target.sizes()) + " here";
    if (!problem.empty()) {
      if (!options.allowPartial)
        throw cw::Error("Checkpoint " + path.string() + " does not fit this model: " + name + " " + problem);
      result.skipped.push_back(name + ": " + problem);
      return;
    }
    target.copy_(stored);
    result.loaded.push_back(name);
  };
  for (const auto& item : model.named_parameters(true)) loadOne(item.key(), item.value(), false);
  for (const auto& item : model.named_buffers(true)) loadOne(item.key(), item.value(), true);
  return result;
}

std::shared_ptr<CellModel> loadCheckpoint(const std::filesystem::path& path, const PluginRegistry& registry,
                                          CheckpointInfo* infoOut) {
  CheckpointInfo info = readCheckpointInfo(path);
  auto model = registry.makeModel(info.pluginName, info.config, info.shape);
  loadParameters(*model, path);
  if (infoOut) *infoOut = std::move(info);
  return model;
}

}  // namespace cw::plugins
