#include <gtest/gtest.h>

#include <filesystem>

#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "cellwright/plugins/builtin.h"
#include "cellwright/train/finetune.h"
#include "cellwright/train/pretrain.h"
#include "cellwright/train/run_folder.h"
#include "tiny_plugin.h"

using namespace cw::train;
namespace fs = std::filesystem;

namespace {

const cw::Dataset& demo() {
  static const cw::Dataset dataset =
      cw::io::readDataset(std::string(CELLWRIGHT_SHARED_DATA_DIR) + "/seurat_pbmc_small_80.h5ad").dataset;
  return dataset;
}

cw::plugins::PluginRegistry& testRegistry() {
  static cw::plugins::PluginRegistry registry;
  if (!registry.contains("tinyae")) {
    registry.add(std::make_shared<cw::train::testing::TinyAutoencoderPlugin>());
    cw::plugins::registerBuiltinPlugins(registry);
  }
  return registry;
}

fs::path runDir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("cw_pretrain_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

PretrainOptions options(const fs::path& dir) {
  PretrainOptions o;
  o.model = "tinyae";
  o.runDir = dir;
  o.registry = &testRegistry();
  o.trainer.device = "cpu";
  o.trainer.epochs = 3;
  o.trainer.batchSize = 16;
  o.trainer.learningRate = 0.01;
  return o;
}

}  // namespace

TEST(Pretrain, TwoDatasetsOneRunThenFineTuneFromIt) {
  // The demo data split by batch stands in for two input files.
  std::vector<int64_t> g1, g2;
  const auto& batch = demo().obs.at("batch");
  for (int64_t i = 0; i < demo().nObs(); ++i) (batch.valueAsString(i) == "g1" ? g1 : g2).push_back(i);
  const auto a = demo().selectObs(g1), b = demo().selectObs(g2);
  const auto dir = runDir("two");
  auto result = pretrain({&a, &b}, options(dir));
  EXPECT_EQ(result.cells, 80);
  EXPECT_EQ(result.genes, 230);
  ASSERT_EQ(result.training.history.size(), 3u);
  EXPECT_LT(result.training.history.back().trainLoss, result.training.history.front().trainLoss);
  const auto config = readJsonFile(dir / "config.json");
  EXPECT_EQ(config["command"], "pretrain");
  EXPECT_EQ(config["studies"], nlohmann::json::array({"dataset1", "dataset2"}));
  const auto split = readJsonFile(dir / "split.json");
  EXPECT_EQ(split["validation"].size(), 8u);  // 10% of 80
  EXPECT_EQ(split["train"].size(), 72u);
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "best.ckpt"));

  FineTuneOptions f;
  f.model = "tinyae";
  f.registry = &testRegistry();
  f.labelKey = "cell_type";
  f.init = dir;
  f.runDir = runDir("from_pretrain");
  f.trainer.device = "cpu";
  f.trainer.epochs = 2;
  f.trainer.batchSize = 16;
  fineTune(demo(), f);
  // encoder and decoder weights and biases come from pre-training; the head is new.
  const auto log = cw::readTextFile(f.runDir / "log.txt");
  EXPECT_NE(log.find("initialised 4 tensors"), std::string::npos) << log;
  EXPECT_NE(log.find("(2 new"), std::string::npos) << log;
}

TEST(Pretrain, ModelWithoutObjectiveIsRefusedBeforeTheRunFolder) {
  const auto dir = runDir("logreg");
  auto o = options(dir);
  o.model = "logreg";
  EXPECT_THROW(pretrain({&demo()}, o), cw::Error);
  EXPECT_FALSE(fs::exists(dir));
}

TEST(Pretrain, StackRowsKeepsEveryEntry) {
  cw::CsrMatrix a, b;
  a.rows = 1; a.cols = 3; a.indptr = {0, 2}; a.indices = {0, 2}; a.data = {1, 2};
  b.rows = 2; b.cols = 3; b.indptr = {0, 1, 2}; b.indices = {1, 0}; b.data = {3, 4};
  auto s = stackRows({&a, &b});
  EXPECT_EQ(s.rows, 3);
  EXPECT_EQ(s.indptr, (std::vector<int64_t>{0, 2, 3, 4}));
  EXPECT_EQ(s.indices, (std::vector<int32_t>{0, 2, 1, 0}));
  EXPECT_EQ(s.data, (std::vector<float>{1, 2, 3, 4}));
}

TEST(Pretrain, StreamedFromDiskAsTheFilesInMemory) {
  std::vector<int64_t> g1, g2;
  const auto& batch = demo().obs.at("batch");
  for (int64_t i = 0; i < demo().nObs(); ++i) (batch.valueAsString(i) == "g1" ? g1 : g2).push_back(i);
  const auto a = demo().selectObs(g1), b = demo().selectObs(g2);
  const auto files = runDir("stream_files");
  fs::create_directories(files);
  cw::io::writeH5ad(a, files / "a.h5ad");
  cw::io::writeH5ad(b, files / "b.h5ad");

  const auto memoryDir = runDir("stream_memory"), streamedDir = runDir("stream_disk");
  pretrain({&a, &b}, options(memoryDir));
  auto o = options(streamedDir);
  o.streamCellsPerChunk = 8;  // 80 cells: ten chunks, windows of two
  o.streamChunksPerWindow = 2;
  auto result = pretrainStreamed({files / "a.h5ad", files / "b.h5ad"}, o);
  EXPECT_EQ(result.cells, 80);
  EXPECT_EQ(result.genes, 230);
  ASSERT_EQ(result.training.history.size(), 3u);
  EXPECT_LT(result.training.history.back().trainLoss, result.training.history.front().trainLoss);
  // Same cells, split, genes and studies as when the files are loaded.
  EXPECT_EQ(readJsonFile(streamedDir / "split.json"), readJsonFile(memoryDir / "split.json"));
  EXPECT_EQ(cw::readTextFile(streamedDir / "genes.txt"), cw::readTextFile(memoryDir / "genes.txt"));
  const auto config = readJsonFile(streamedDir / "config.json");
  EXPECT_EQ(config["studies"], nlohmann::json::array({"dataset1", "dataset2"}));
  EXPECT_EQ(config["streamed"], true);
  const auto log = cw::readTextFile(streamedDir / "log.txt");
  EXPECT_NE(log.find("streaming the matrices from disk in chunks of 8 cells"), std::string::npos) << log;
  fs::remove_all(files);
  fs::remove_all(memoryDir);
  fs::remove_all(streamedDir);
}
