// Backed mode streams the same cells a full read gives; views subset without copying.
#include <gtest/gtest.h>

#include <numeric>

#include "cellwright/core/errors.h"
#include "cellwright/io/backed.h"
#include "cellwright/io/dataset_view.h"
#include "cellwright/io/readers.h"
#include "io_test_util.h"

namespace {

void expectSameMatrix(const cw::CsrMatrix& a, const cw::CsrMatrix& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);
}

cw::CsrMatrix concatenate(const cw::io::BackedDataset& backed, int64_t chunk) {
  cw::CsrMatrix all;
  all.cols = backed.nVars();
  int64_t expectedStart = 0;
  backed.forEachChunk(chunk, [&](int64_t start, const cw::CsrMatrix& rows) {
    EXPECT_EQ(start, expectedStart);
    EXPECT_LE(rows.rows, chunk);
    expectedStart += rows.rows;
    const int64_t offset = all.nnz();
    all.indices.insert(all.indices.end(), rows.indices.begin(), rows.indices.end());
    all.data.insert(all.data.end(), rows.data.begin(), rows.data.end());
    for (int64_t r = 0; r < rows.rows; ++r) all.indptr.push_back(offset + rows.indptr[r + 1]);
    all.rows += rows.rows;
  });
  return all;
}

}  // namespace

TEST(Backed, ChunksOfACompressedFileEqualTheFullRead) {
  const auto path = cwtest::sharedData("pbmc3k_seurat_2638.h5ad");
  const auto full = cw::io::readDataset(path).dataset;
  cw::io::BackedDataset backed(path);
  EXPECT_EQ(backed.nObs(), full.nObs());
  EXPECT_EQ(backed.nVars(), full.nVars());
  EXPECT_EQ(backed.nnz(), full.X.nnz());
  EXPECT_EQ(backed.xDtype(), "float32");
  EXPECT_EQ(backed.obs().index, full.obs.index);
  EXPECT_EQ(backed.obs().at("cell_type").codes, full.obs.at("cell_type").codes);
  expectSameMatrix(concatenate(backed, 500), full.X);
  const std::vector<int64_t> picks{2637, 5, 6, 7, 1000, 5, 0};
  expectSameMatrix(backed.readRows(picks), full.X.selectRows(picks));
}

TEST(Backed, TenxDenseAndCountsLayerSources) {
  {
    const auto path = cwtest::ioData("tenx/tenx_v3.h5");
    cw::io::BackedDataset backed(path);
    const auto full = cw::io::readDataset(path).dataset;
    EXPECT_EQ(backed.nVars(), full.nVars());  // Gene Expression only, as the full read
    expectSameMatrix(concatenate(backed, 7), full.X);
  }
  {
    const auto path = cwtest::ioData("formats/dense_float32.h5ad");
    cw::io::BackedDataset backed(path);
    expectSameMatrix(concatenate(backed, 6), cw::io::readDataset(path).dataset.X);
  }
  {
    const auto path = cwtest::ioData("formats/cellxgene_style.h5ad");
    cw::io::BackedOptions options;
    options.matrix = "";  // the counts
    cw::io::BackedDataset backed(path, options);
    EXPECT_EQ(backed.matrixName(), "layers/counts");
    expectSameMatrix(concatenate(backed, 8), cw::io::readDataset(path).dataset.layers.at("counts"));
  }
}

TEST(Backed, RefusesWhatItCannotStream) {
  EXPECT_THROW(cw::io::BackedDataset(cwtest::ioData("formats/csc_float64_int64.h5ad")), cw::Error);
  EXPECT_THROW(cw::io::BackedDataset(cwtest::ioData("malformed/bad_indptr.h5ad")), cw::Error);
  EXPECT_THROW(cw::io::BackedDataset(cwtest::ioData("tenx/mtx_v2")), cw::Error);
  cw::io::BackedDataset backed(cwtest::ioData("formats/csr_float32_int32.h5ad"));
  EXPECT_THROW(backed.readRows(15, 10), cw::Error);  // past the 20 cells
  // A corrupt index inside a chunk is caught when that chunk is read.
  cw::io::BackedDataset bad(cwtest::ioData("malformed/index_out_of_range.h5ad"));
  EXPECT_THROW(bad.readRows(0, bad.nObs()), cw::Error);
}

TEST(DatasetView, SubsetsComposeWithoutCopyingTheMatrix) {
  auto base = std::make_shared<const cw::Dataset>(cw::io::readDataset(cwtest::ioData("formats/cellxgene_style.h5ad")).dataset);
  cw::io::DatasetView view(base);
  const auto cells = view.selectObs({10, 2, 3, 4, 19});
  const auto both = cells.selectVars({0, 5, 29, 7}).selectObs({4, 0, 2});  // cells 19, 10, 3
  EXPECT_EQ(both.nObs(), 3);
  EXPECT_EQ(both.nVars(), 4);
  EXPECT_EQ(both.obsName(0), base->obs.index[19]);
  EXPECT_EQ(both.varName(2), base->var.index[29]);
  EXPECT_EQ(&both.base().X, &base->X);  // shares the matrix
  const cw::Dataset copy = both.materialize();
  ASSERT_EQ(copy.nObs(), 3);
  ASSERT_EQ(copy.nVars(), 4);
  const std::vector<int64_t> baseRows{19, 10, 3}, baseCols{0, 5, 29, 7};
  for (int64_t i = 0; i < 3; ++i) {
    std::vector<double> fromView(4, 0.0);
    both.forEachInRow(i, [&](int32_t c, float v) { fromView[c] += v; });
    for (int64_t j = 0; j < 4; ++j) {
      double expected = 0;  // straight from the base CSR
      const auto& x = base->X;
      for (int64_t k = x.indptr[baseRows[i]]; k < x.indptr[baseRows[i] + 1]; ++k)
        if (x.indices[k] == baseCols[j]) expected = x.data[k];
      EXPECT_FLOAT_EQ(fromView[j], expected);
      EXPECT_FLOAT_EQ(cwtest::rowSum(copy.X.selectColumns({j}), i), expected);
    }
  }
  EXPECT_EQ(copy.obs.at("donor").strings[0], base->obs.at("donor").strings[19]);
  EXPECT_EQ(copy.obsm.at("X_umap").at(1, 0), base->obsm.at("X_umap").at(10, 0));
  EXPECT_EQ(copy.layers.at("counts").cols, 4);
  EXPECT_THROW(view.selectObs({20}), cw::Error);
  EXPECT_THROW(view.selectVars({1, 1}), cw::Error);
}
