// `info --json` and `convert` run as the real binary, checked against what anndata reports
// (tests/data/io/shared_expectations.json, from tests/reference/io_expectations.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json expectations() {
  std::ifstream in(fs::path(CELLWRIGHT_TEST_DATA_DIR) / "io" / "shared_expectations.json");
  return json::parse(in);
}

std::string shared(const std::string& name) { return (fs::path(CELLWRIGHT_SHARED_DATA_DIR) / name).string(); }

fs::path scratch(const std::string& tag) {
  auto dir = fs::temp_directory_path() / ("cw_cli_io_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void expectInfoMatchesAnndata(const json& info, const json& e) {
  EXPECT_EQ(info["n_obs"], e["n_obs"]);
  EXPECT_EQ(info["n_vars"], e["n_vars"]);
  EXPECT_EQ(info["nnz"], e["nnz"]);
  EXPECT_EQ(info["x_dtype"], e["x_dtype"]);
  EXPECT_EQ(info["counts_source"], "X");  // the shared files hold raw counts in X (data README)
  EXPECT_EQ(info["obs"].size(), e["obs"]["columns"].size());
  for (const auto& [name, col] : e["obs"]["column_info"].items()) {
    EXPECT_EQ(info["obs"][name]["kind"], col["kind"]) << name;
    if (col.contains("n_categories")) {
      EXPECT_EQ(info["obs"][name]["n_categories"], col["n_categories"]) << name;
    }
  }
  EXPECT_EQ(info["var_columns"], e["var"]["columns"]);
  EXPECT_EQ(info["layers"], e["layers"]);
  EXPECT_EQ(info["obsm"].size(), e["obsm"].size());
}

}  // namespace

TEST(CliIo, InfoJsonMatchesAnndataOnSharedFiles) {
  const json all = expectations();
  for (const char* name : {"pbmc68k_reduced_700.h5ad", "zheng2017_pbmc_facs_3874.h5ad"}) {
    SCOPED_TRACE(name);
    auto run = runCli({"info", shared(name), "--json"});
    ASSERT_EQ(run.exitCode, 0) << run.err;
    expectInfoMatchesAnndata(json::parse(run.out), all[name]);
  }
}

TEST(CliIo, InfoReportsObsmLayersAndCountsSource) {
  auto run = runCli({"info", (fs::path(CELLWRIGHT_TEST_DATA_DIR) / "io/formats/cellxgene_style.h5ad").string(), "--json"});
  ASSERT_EQ(run.exitCode, 0) << run.err;
  auto info = json::parse(run.out);
  EXPECT_EQ(info["counts_source"], "layers/counts");
  EXPECT_EQ(info["obsm"]["X_umap"], json::array({20, 2}));
  EXPECT_EQ(info["obsm"]["X_pca"], json::array({20, 5}));
  EXPECT_EQ(info["layers"], json::array({"counts"}));
  EXPECT_EQ(info["obs"]["is_doublet"]["kind"], "bool");
  EXPECT_EQ(info["obs"]["donor"]["kind"], "string");
  EXPECT_EQ(info["obs"]["cell_type"]["n_categories"], 3);
  EXPECT_EQ(info["var_columns"], json::array({"feature_name", "highly_variable"}));
}

TEST(CliIo, ConvertWritesAnH5adThatReadsTheSame) {
  const auto dir = scratch("convert");
  const std::string out = (dir / "out.h5ad").string();
  auto run = runCli({"convert", shared("seurat_pbmc_small_80.h5ad"), out});
  ASSERT_EQ(run.exitCode, 0) << run.err;
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  auto info = runCli({"info", out, "--json"});
  ASSERT_EQ(info.exitCode, 0) << info.err;
  expectInfoMatchesAnndata(json::parse(info.out), expectations()["seurat_pbmc_small_80.h5ad"]);
  fs::remove_all(dir);
}

TEST(CliIo, BadInputExitsOneWithOneLine) {
  const auto dir = scratch("bad");
  {
    std::ofstream(dir / "junk.h5ad") << "not an hdf5 file";
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"info", (dir / "missing.h5ad").string(), "--json"},
           {"info", (dir / "junk.h5ad").string()},
           {"convert", (dir / "junk.h5ad").string(), (dir / "out.h5ad").string()}}) {
    auto run = runCli(args);
    EXPECT_EQ(run.exitCode, 1) << args[1];
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_TRUE(run.out.empty());
  }
  EXPECT_FALSE(fs::exists(dir / "out.h5ad"));
  fs::remove_all(dir);
}

TEST(CliIo, BadUsageExitsTwo) {
  EXPECT_EQ(runCli({"info"}).exitCode, 2);
  EXPECT_EQ(runCli({"convert", shared("seurat_pbmc_small_80.h5ad")}).exitCode, 2);
  EXPECT_EQ(runCli({"convert", shared("seurat_pbmc_small_80.h5ad"), "out.csv"}).exitCode, 2);
  EXPECT_EQ(runCli({"info", shared("seurat_pbmc_small_80.h5ad"), "--orientation", "sideways"}).exitCode, 2);
}
