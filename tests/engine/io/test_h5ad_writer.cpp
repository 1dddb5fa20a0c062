// Round trip: read -> writeH5ad -> Debian's anndata 0.8 reads the result and compares it with
// the original (tests/engine/io/check_roundtrip.py).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "cellwright/core/errors.h"
#include "cellwright/core/atomic_file.h"
#include "cellwright/io/readers.h"
#include "io_test_util.h"

namespace fs = std::filesystem;

namespace {

const char* kPython = "/usr/bin/python3";

bool anndataAvailable() {
  static const bool ok = fs::exists(kPython) &&
                         std::system((std::string(kPython) + " -c 'import anndata' >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

// Runs the checker; returns its one-line verdict.
std::string runChecker(const std::string& args, const fs::path& scratch) {
  const fs::path script = fs::path(CELLWRIGHT_IO_TEST_DIR) / "check_roundtrip.py";
  const fs::path log = scratch / "check.log";
  const std::string cmd = std::string(kPython) + " " + script.string() + " " + args + " > " + log.string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  std::string out = cw::readTextFile(log);
  if (rc != 0 && out.empty()) out = "checker failed";
  return out;
}

}  // namespace

TEST(H5adWriter, SharedFilesRoundTripThroughAnndata) {
  if (!anndataAvailable()) GTEST_SKIP() << "/usr/bin/python3 with anndata is not installed";
  const fs::path scratch = cwtest::scratchDir("roundtrip");
  for (const char* name : {"seurat_pbmc_small_80.h5ad", "pbmc68k_reduced_700.h5ad", "zheng2017_pbmc_facs_3874.h5ad"}) {
    SCOPED_TRACE(name);
    auto read = cw::io::readDataset(cwtest::sharedData(name));
    const fs::path out = scratch / name;
    cw::io::writeH5ad(read.dataset, out);
    EXPECT_EQ(runChecker(cwtest::sharedData(name).string() + " " + out.string(), scratch), "OK\n");
  }
  fs::remove_all(scratch);
}

TEST(H5adWriter, EverySlotAndNewerEncodingsRoundTrip) {
  if (!anndataAvailable()) GTEST_SKIP() << "/usr/bin/python3 with anndata is not installed";
  const fs::path scratch = cwtest::scratchDir("roundtrip_slots");
  auto read = cw::io::readDataset(cwtest::ioData("formats/cellxgene_style.h5ad"));
  const fs::path out = scratch / "out.h5ad";
  cw::io::writeH5ad(read.dataset, out, {.compress = true});
  EXPECT_EQ(runChecker("--fixture " + cwtest::ioData("formats/expectations.json").string() +
                           " cellxgene_style.h5ad " + out.string(),
                       scratch),
            "OK\n");
  fs::remove_all(scratch);
}

TEST(H5adWriter, WrittenFileReadsBackIdentically) {
  // Needs no Python: our reader on our writer's output, against the original read.
  const fs::path scratch = cwtest::scratchDir("reread");
  auto first = cw::io::readDataset(cwtest::ioData("formats/cellxgene_style.h5ad")).dataset;
  cw::io::writeH5ad(first, scratch / "a.h5ad");
  auto second = cw::io::readDataset(scratch / "a.h5ad").dataset;
  EXPECT_EQ(second.X.indptr, first.X.indptr);
  EXPECT_EQ(second.X.indices, first.X.indices);
  EXPECT_EQ(second.X.data, first.X.data);
  EXPECT_EQ(second.obs.index, first.obs.index);
  EXPECT_EQ(second.var.columnOrder, first.var.columnOrder);
  EXPECT_EQ(second.obs.at("cell_type").codes, first.obs.at("cell_type").codes);
  EXPECT_EQ(second.obsm.at("X_pca").values, first.obsm.at("X_pca").values);
  EXPECT_EQ(second.countsSource, cw::CountsSource::LayersCounts);
  fs::remove_all(scratch);
}

TEST(H5adWriter, FailedWriteLeavesNoFileBehind) {
  const fs::path scratch = cwtest::scratchDir("atomic");
  cw::Dataset bad;
  bad.X.rows = 2;
  bad.X.cols = 2;
  bad.X.indptr = {0, 1, 2};
  bad.X.indices = {0, 5};  // column 5 of 2: refused before anything is written
  bad.X.data = {1, 1};
  bad.obs.index = {"a", "b"};
  bad.var.index = {"g1", "g2"};
  EXPECT_THROW(cw::io::writeH5ad(bad, scratch / "bad.h5ad"), cw::Error);
  EXPECT_TRUE(fs::is_empty(scratch));
  fs::remove_all(scratch);
}
