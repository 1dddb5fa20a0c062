#pragma once
// The models compiled into Cellwright. Call registerBuiltinPlugins() once at start-up; it
// adds each through PluginRegistry::add, the same path a third-party plugin takes.
#include "cellwright/plugins/plugin_registry.h"

namespace cw::plugins {

// Adds logreg, mlp, cellpatch, bioformer and screformer (skips names already present).
void registerBuiltinPlugins(PluginRegistry& registry = PluginRegistry::global());

std::shared_ptr<ModelPlugin> makeLogisticRegressionPlugin();
std::shared_ptr<ModelPlugin> makeMlpPlugin();
std::shared_ptr<ModelPlugin> makeCellPatchPlugin();
std::shared_ptr<ModelPlugin> makeBioFormerPlugin();
std::shared_ptr<ModelPlugin> makeScReformerPlugin();

}  // namespace cw::plugins
