#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cellwright/core/errors.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/plugins/checkpoint.h"
#include "cellwright/plugins/config_fields.h"
#include "cellwright/plugins/plugin_registry.h"

namespace fs = std::filesystem;
using namespace cw::plugins;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("cw_models_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

TEST(PluginApi, IidMajorVersionParsing) {
  EXPECT_EQ(iidMajorVersion("org.cellwright.ModelPlugin/1"), 1);
  EXPECT_EQ(iidMajorVersion("org.cellwright.ModelPlugin/2.3"), 2);
  EXPECT_EQ(iidMajorVersion("org.other.Plugin/1"), -1);
  EXPECT_EQ(iidMajorVersion("org.cellwright.ModelPlugin/x"), -1);
}

TEST(PluginApi, MetadataJsonRoundTripAndMissingField) {
  PluginMetadata m;
  m.name = "x";
  m.version = "1.2";
  m.description = "d";
  m.citation = "c";
  m.library = "libx.so";
  const PluginMetadata back = PluginMetadata::fromJson(m.toJson());
  EXPECT_EQ(back.toJson(), m.toJson());
  nlohmann::json noName = m.toJson();
  noName.erase("name");
  EXPECT_THROW(PluginMetadata::fromJson(noName), cw::Error);
}

namespace {
struct C {
  int64_t a = 1;
  std::string b = "x";
  template <class V>
  void visitFields(V&& v) {
    v("a", a);
    v("b", b);
  }
};
}  // namespace

TEST(PluginApi, ConfigFieldsRejectUnknownKeysAndWrongTypes) {
  const C c = configFromJson(nlohmann::json{{"a", 5}}, C{}, "test");
  EXPECT_EQ(c.a, 5);
  EXPECT_EQ(c.b, "x");
  EXPECT_EQ(configToJson(c), (nlohmann::json{{"a", 5}, {"b", "x"}}));
  EXPECT_THROW(configFromJson(nlohmann::json{{"typo", 1}}, C{}, "test"), cw::Error);
  EXPECT_THROW(configFromJson(nlohmann::json{{"a", "five"}}, C{}, "test"), cw::Error);
}

TEST(PluginRegistry, BuiltinsRegisteredThroughAdd) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  for (const char* name : {"logreg", "mlp"}) {
    EXPECT_TRUE(registry.contains(name)) << name;
    EXPECT_EQ(registry.origin(name), "built-in");
  }
  EXPECT_THROW(registry.plugin("nonexistent"), cw::Error);
  // Registering twice is refused by add(), skipped by registerBuiltinPlugins.
  EXPECT_THROW(registry.add(makeMlpPlugin()), cw::Error);
  EXPECT_NO_THROW(registerBuiltinPlugins(registry));
}

TEST(PluginRegistry, EveryBuiltinConfigRoundTripsAndHasPresets) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  for (const auto& meta : registry.list()) {
    const ModelPlugin& plugin = registry.plugin(meta.name);
    for (const std::string preset : {"paper", "small"}) {
      const nlohmann::json config = plugin.defaultConfig(preset);
      EXPECT_EQ(plugin.normalizeConfig(config), config) << meta.name << " " << preset;
      // Every config key is documented.
      for (const auto& item : config.items())
        EXPECT_TRUE(plugin.configDocumentation().count(item.key())) << meta.name << ": " << item.key();
    }
    EXPECT_EQ(plugin.normalizeConfig(nlohmann::json::object()), plugin.defaultConfig("paper")) << meta.name;
    EXPECT_THROW(plugin.defaultConfig("huge"), cw::Error);
    EXPECT_THROW(plugin.normalizeConfig(nlohmann::json{{"no_such_setting", 1}}), cw::Error);
  }
}

TEST(PluginRegistry, LoadsThirdPartyPluginFromFolder) {
  TempDir dir;
  fs::copy_file(CELLWRIGHT_DUMMY_PLUGIN_PATH, dir.path / "libdummy.so");
  writeFile(dir.path / "dummy.json",
            R"({"iid": "org.cellwright.ModelPlugin/1", "name": "dummy", "version": "0.0.1",
                "description": "Test plugin", "citation": "", "library": "libdummy.so"})");
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  const LoadFolderResult result = registry.loadFolder(dir.path);
  ASSERT_EQ(result.loaded, std::vector<std::string>{"dummy"});
  EXPECT_TRUE(result.skipped.empty());
  EXPECT_EQ(registry.origin("dummy"), (dir.path / "libdummy.so").string());

  ModelShape shape{.vocabSize = 0, .nClasses = 0, .nStudies = 0, .nGenes = 4};
  auto model = registry.makeModel("dummy", {{"width", 2}}, shape);
  cw::tokenize::TokenBatch batch;
  batch.dense = torch::ones({5, 4});
  EXPECT_EQ(model->embed(batch).sizes(), (std::vector<int64_t>{5, 2}));
}

TEST(PluginRegistry, RefusesOtherInterfaceVersionBeforeLoading) {
  TempDir dir;
  // Not a library at all: if the loader tried dlopen, the reason would be a load error.
  writeFile(dir.path / "libfuture.so", "not an ELF file");
  writeFile(dir.path / "future.json",
            R"({"iid": "org.cellwright.ModelPlugin/2", "name": "future", "version": "9",
                "library": "libfuture.so"})");
  writeFile(dir.path / "broken.json", "{ not json");
  PluginRegistry registry;
  const LoadFolderResult result = registry.loadFolder(dir.path);
  EXPECT_TRUE(result.loaded.empty());
  ASSERT_EQ(result.skipped.size(), 2u);
  EXPECT_NE(result.skipped[0].second.find("not valid JSON"), std::string::npos) << result.skipped[0].second;
  EXPECT_NE(result.skipped[1].second.find("interface version 2"), std::string::npos) << result.skipped[1].second;
  EXPECT_FALSE(registry.contains("future"));
}

TEST(Checkpoint, SaveLoadRoundTripIsExact) {
  PluginRegistry registry;
  registerBuiltinPlugins(registry);
  torch::manual_seed(3);
  const ModelShape shape{.vocabSize = 0, .nClasses = 3, .nStudies = 0, .nGenes = 7};
  auto model = registry.makeModel("mlp", {{"hidden", 5}}, shape);
  TempDir dir;
  const fs::path file = dir.path / "model.pt";
  saveCheckpoint(*model, file, {{"epoch", 4}});

  const CheckpointInfo info = readCheckpointInfo(file);
  EXPECT_EQ(info.pluginName, "mlp");
  EXPECT_EQ(info.shape, shape);
  EXPECT_EQ(info.config, model->config());
  EXPECT_EQ(info.extra.at("epoch"), 4);

  auto loaded = loadCheckpoint(file, registry);
  auto a = model->named_parameters();
  auto b = loaded->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  cw::tokenize::TokenBatch batch;
  batch.dense = torch::rand({4, 7});
  model->eval();
  loaded->eval();
  EXPECT_TRUE(torch::equal(model->classify(batch), loaded->classify(batch)));

  // A model with another head size: strict load fails, partial load skips the head.
  auto other = registry.makeModel("mlp", {{"hidden", 5}}, ModelShape{0, 9, 0, 7});
  EXPECT_THROW(loadParameters(*other, file), cw::Error);
  const auto partial = loadParameters(*other, file, {.allowPartial = true});
  EXPECT_EQ(partial.skipped.size(), 2u);  // out.weight, out.bias
  EXPECT_TRUE(torch::equal(other->named_parameters()["hidden.weight"], a["hidden.weight"]));
  EXPECT_THROW(readCheckpointInfo(dir.path / "missing.pt"), cw::Error);
}
