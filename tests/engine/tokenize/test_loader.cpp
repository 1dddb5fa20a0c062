// The batch loader: epochs cover every cell once, order depends only on (seed, epoch),
// worker threads change nothing but speed, errors reach the consumer.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cellwright/core/errors.h"
#include "cellwright/tokenize/loader.h"

namespace cw::tokenize {
namespace {

CsrMatrix diagonal(int64_t n) {
  CsrMatrix m;
  m.rows = n;
  m.cols = n;
  for (int64_t r = 0; r < n; ++r) {
    m.indices.push_back(static_cast<int32_t>(r));
    m.data.push_back(static_cast<float>(r + 1));
    m.indptr.push_back(r + 1);
  }
  return m;
}

std::vector<std::pair<int64_t, int64_t>> drain(BatchLoader& loader, uint64_t epoch, std::vector<int64_t>* sizes = nullptr) {
  loader.startEpoch(epoch);
  std::vector<std::pair<int64_t, int64_t>> seen;
  while (auto batch = loader.next()) {
    if (sizes) sizes->push_back(batch->size());
    for (int64_t i = 0; i < batch->size(); ++i) seen.emplace_back(batch->datasetIndices[i], batch->cellIndices[i]);
    // The tokenizer ran on these very cells: dense row i has its one value at column row.
    for (int64_t i = 0; i < batch->size(); ++i)
      EXPECT_GT(batch->dense[i][batch->cellIndices[i]].item<float>(), 0.0f);
  }
  return seen;
}

struct Corpus {
  CsrMatrix a = diagonal(37), b = diagonal(37);
  CellSource sa, sb;
  Corpus() {
    sa.matrix = &a;
    sb.matrix = &b;
    sb.datasetIndex = 1;
  }
  BatchLoader loader(int workers, uint64_t seed = 1, bool dropLast = false) const {
    LoaderOptions o;
    o.batchSize = 8;
    o.seed = seed;
    o.workers = workers;
    o.dropLast = dropLast;
    o.prefetchBatches = 3;
    DenseOptions d;
    d.nGenes = 37;
    return BatchLoader(allCells({&sa, &sb}), [d](const std::vector<CellRef>& c, uint64_t) { return collateDense(c, d); }, o);
  }
};

TEST(BatchLoader, EveryCellOncePerEpochAcrossDatasets) {
  Corpus c;
  auto loader = c.loader(2);
  std::vector<int64_t> sizes;
  const auto seen = drain(loader, 0, &sizes);
  EXPECT_EQ(seen.size(), 74u);
  const std::set<std::pair<int64_t, int64_t>> distinct(seen.begin(), seen.end());
  EXPECT_EQ(distinct.size(), 74u);
  EXPECT_EQ(loader.batchesPerEpoch(), 10);
  EXPECT_EQ(sizes.back(), 2);  // 74 = 9 × 8 + 2
}

TEST(BatchLoader, ReproducibleWhateverTheWorkers) {
  Corpus c;
  auto serial = c.loader(0), threaded = c.loader(3);
  const auto a = drain(serial, 4), b = drain(threaded, 4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, drain(threaded, 5));  // another epoch, another order
  auto otherSeed = c.loader(2, 99);
  EXPECT_NE(a, drain(otherSeed, 4));
  // What next() tokenizes is what batchCells() announces.
  const auto first = serial.batchCells(4, 0);
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i].row, a[i].second);
}

TEST(BatchLoader, DropLastAndRestartMidEpoch) {
  Corpus c;
  auto loader = c.loader(2, 1, true);
  std::vector<int64_t> sizes;
  drain(loader, 0, &sizes);
  EXPECT_EQ(sizes.size(), 9u);
  loader.startEpoch(1);
  ASSERT_TRUE(loader.next().has_value());
  loader.startEpoch(1);  // restart while workers are busy: no deadlock, full epoch again
  int n = 0;
  while (loader.next()) ++n;
  EXPECT_EQ(n, 9);
}

TEST(BatchLoader, WorkerErrorsReachTheConsumer) {
  CsrMatrix m = diagonal(10);
  CellSource s;
  s.matrix = &m;
  LoaderOptions o;
  o.batchSize = 4;
  o.workers = 2;
  DenseOptions wrong;
  wrong.nGenes = 11;  // data has 10 genes
  BatchLoader loader(allCells({&s}), [wrong](const std::vector<CellRef>& c, uint64_t) { return collateDense(c, wrong); }, o);
  loader.startEpoch(0);
  EXPECT_THROW(loader.next(), Error);
}

}  // namespace
}  // namespace cw::tokenize
