#include "cellwright/plugins/builtin.h"

namespace cw::plugins {

void registerBuiltinPlugins(PluginRegistry& registry) {
  for (const auto& make : {makeLogisticRegressionPlugin, makeMlpPlugin, makeCellPatchPlugin, makeBioFormerPlugin,
                           makeScReformerPlugin}) {
    auto plugin = make();
    if (!registry.contains(plugin->metadata().name)) registry.add(std::move(plugin), "built-in");
  }
}

}  // namespace cw::plugins
