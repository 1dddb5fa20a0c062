#pragma once
// Small helpers shared by model implementations: batch validation with messages a
// biologist can act on, and shape checks.
#include <string>

#include "cellwright/core/errors.h"
#include "cellwright/plugins/model_plugin.h"

namespace cw::plugins {

// Throws cw::Error when `tensor` is undefined or not of rank `rank`.
inline const torch::Tensor& requireField(const torch::Tensor& tensor, const char* field, int64_t rank,
                                         const std::string& model) {
  if (!tensor.defined())
    throw cw::Error("The " + model + " model needs '" + field +
                    "' in its input batch; tokenize the data with this model's tokenizer");
  if (tensor.dim() != rank)
    throw cw::Error("The " + model + " model got '" + std::string(field) + "' with " + std::to_string(tensor.dim()) +
                    " dimensions, expected " + std::to_string(rank));
  return tensor;
}

inline void requireClasses(const ModelShape& shape, const std::string& model) {
  if (shape.nClasses <= 0)
    throw cw::Error("The " + model + " model was built without a classification head (no cell types given)");
}

// Throws unless `preset` is one of the plugin's presets.
inline void requirePreset(const std::string& preset, const std::string& model) {
  if (preset != "paper" && preset != "small" && preset != "default")
    throw cw::Error("Unknown preset '" + preset + "' for " + model + " (use paper or small)");
}

}  // namespace cw::plugins
