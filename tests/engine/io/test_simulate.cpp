// The simulator against the contract's realism criteria: 85-97% zeros at defaults, per-gene
// variance above the mean, log-normal library sizes, types separable but not trivially
// (a logistic regression on 1,000 cells scores 0.80-0.99), batches that shift expression
// without erasing types; and the streamed file equals the in-memory simulation.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "cellwright/io/simulate.h"
#include "io_test_util.h"

namespace {

// Dense log1p(counts per 10k), standardised per gene: the usual input of a baseline classifier.
std::vector<std::vector<double>> features(const cw::CsrMatrix& x, const std::vector<int64_t>& rows) {
  std::vector<std::vector<double>> f(rows.size(), std::vector<double>(x.cols, 0.0));
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t r = rows[i];
    const double total = std::max(1.0, cwtest::rowSum(x, r));
    for (int64_t k = x.indptr[r]; k < x.indptr[r + 1]; ++k) f[i][x.indices[k]] = std::log1p(x.data[k] * 1e4 / total);
  }
  for (int64_t g = 0; g < x.cols; ++g) {
    double mean = 0, var = 0;
    for (auto& row : f) mean += row[g];
    mean /= double(f.size());
    for (auto& row : f) var += (row[g] - mean) * (row[g] - mean);
    const double sd = std::sqrt(var / double(f.size())) + 1e-8;
    for (auto& row : f) row[g] = (row[g] - mean) / sd;
  }
  return f;
}

// Multinomial logistic regression, L2-penalised, full-batch gradient descent with momentum.
// Trains on `train`, returns the accuracy on `test`.
double logisticAccuracy(const std::vector<std::vector<double>>& X, const std::vector<int>& y, int classes,
                        const std::vector<size_t>& train, const std::vector<size_t>& test) {
  const size_t d = X[0].size();
  std::vector<double> w(classes * (d + 1), 0.0), velocity(w.size(), 0.0), grad(w.size());
  auto scores = [&](const std::vector<double>& x, std::vector<double>& p) {
    double maxS = -1e300;
    for (int c = 0; c < classes; ++c) {
      double s = w[c * (d + 1) + d];
      for (size_t j = 0; j < d; ++j) s += w[c * (d + 1) + j] * x[j];
      p[c] = s;
      maxS = std::max(maxS, s);
    }
    double z = 0;
    for (auto& v : p) z += v = std::exp(v - maxS);
    for (auto& v : p) v /= z;
  };
  std::vector<double> p(classes);
  const double lr = 0.05, l2 = 1e-3;
  for (int it = 0; it < 150; ++it) {
    std::fill(grad.begin(), grad.end(), 0.0);
    for (size_t i : train) {
      scores(X[i], p);
      for (int c = 0; c < classes; ++c) {
        const double e = p[c] - (y[i] == c ? 1.0 : 0.0);
        for (size_t j = 0; j < d; ++j) grad[c * (d + 1) + j] += e * X[i][j];
        grad[c * (d + 1) + d] += e;
      }
    }
    for (size_t k = 0; k < w.size(); ++k) {
      velocity[k] = 0.9 * velocity[k] - lr * (grad[k] / double(train.size()) + l2 * w[k]);
      w[k] += velocity[k];
    }
  }
  size_t correct = 0;
  for (size_t i : test) {
    scores(X[i], p);
    correct += static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin()) == y[i];
  }
  return double(correct) / double(test.size());
}

std::vector<int> codesOf(const cw::Dataset& d, const std::string& column) {
  const auto& c = d.obs.at(column).codes;
  return {c.begin(), c.end()};
}

double skewness(const std::vector<double>& v) {
  const double n = double(v.size());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double m2 = 0, m3 = 0;
  for (double x : v) {
    m2 += (x - mean) * (x - mean);
    m3 += (x - mean) * (x - mean) * (x - mean);
  }
  m2 /= n;
  m3 /= n;
  return m3 / std::pow(m2, 1.5);
}

cw::io::SimulateOptions thousandCells() {
  cw::io::SimulateOptions o;  // every noise setting at its default
  o.cells = 1000;
  o.seed = 7;
  return o;
}

}  // namespace

TEST(Simulate, DefaultsGiveRealisticSparsityOverdispersionAndLibrarySizes) {
  const auto d = cw::io::simulateDataset(thousandCells());
  ASSERT_EQ(d.nObs(), 1000);
  ASSERT_EQ(d.nVars(), 2000);
  EXPECT_NO_THROW(d.X.validate("X"));
  const double zeros = 1.0 - double(d.X.nnz()) / (1000.0 * 2000.0);
  EXPECT_GE(zeros, 0.85);
  EXPECT_LE(zeros, 0.97);
  EXPECT_TRUE(cw::looksLikeCounts(d.X));

  // Per gene: variance above the mean (negative binomial), for genes seen in the data.
  std::vector<double> sum(d.nVars(), 0.0), sumSq(d.nVars(), 0.0);
  for (size_t k = 0; k < d.X.data.size(); ++k) {
    sum[d.X.indices[k]] += d.X.data[k];
    sumSq[d.X.indices[k]] += double(d.X.data[k]) * d.X.data[k];
  }
  int tested = 0, overdispersed = 0;
  for (int64_t g = 0; g < d.nVars(); ++g) {
    const double mean = sum[g] / 1000.0;
    if (mean < 0.2) continue;
    const double var = sumSq[g] / 1000.0 - mean * mean;
    ++tested;
    overdispersed += var > mean;
  }
  ASSERT_GT(tested, 100);
  EXPECT_GE(double(overdispersed) / tested, 0.95) << overdispersed << " of " << tested;

  // Library sizes: log-normal, so log totals are symmetric while totals are right-skewed.
  std::vector<double> totals, logs;
  for (int64_t r = 0; r < d.nObs(); ++r) {
    totals.push_back(cwtest::rowSum(d.X, r));
    logs.push_back(std::log(totals.back()));
  }
  // (Counting noise on top of the log-normal library adds a little left skew to small totals.)
  EXPECT_LT(std::fabs(skewness(logs)), 0.5);
  EXPECT_GT(skewness(totals), 0.8);
  const double mean = std::accumulate(logs.begin(), logs.end(), 0.0) / double(logs.size());
  double var = 0;
  for (double v : logs) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / double(logs.size()));
  double within1 = 0, within2 = 0;
  for (double v : logs) {
    within1 += std::fabs(v - mean) < sd;
    within2 += std::fabs(v - mean) < 2 * sd;
  }
  EXPECT_NEAR(within1 / double(logs.size()), 0.683, 0.05);  // normal: 68.3% and 95.4%
  EXPECT_NEAR(within2 / double(logs.size()), 0.954, 0.03);
}

TEST(Simulate, TypesSeparableButNotTriviallyAndBatchesShiftWithoutErasingThem) {
  const auto d = cw::io::simulateDataset(thousandCells());
  std::vector<int64_t> all(d.nObs());
  std::iota(all.begin(), all.end(), 0);
  const auto X = features(d.X, all);
  const auto types = codesOf(d, "cell_type");
  const auto batches = codesOf(d, "batch");
  std::vector<size_t> train, test;
  for (size_t i = 0; i < all.size(); ++i) (i % 10 < 7 ? train : test).push_back(i);
  const double accuracy = logisticAccuracy(X, types, 5, train, test);
  RecordProperty("type_accuracy", std::to_string(accuracy));
  EXPECT_GE(accuracy, 0.80);
  EXPECT_LE(accuracy, 0.99);

  // Batches are visible to a classifier ...
  EXPECT_GE(logisticAccuracy(X, batches, 2, train, test), 0.75);
  // ... yet a type classifier trained on batch 0 still works on batch 1.
  std::vector<size_t> batch0, batch1;
  for (size_t i = 0; i < all.size(); ++i) (batches[i] == 0 ? batch0 : batch1).push_back(i);
  EXPECT_GE(logisticAccuracy(X, types, 5, batch0, batch1), 0.70);
}

TEST(Simulate, StreamedFileEqualsTheInMemoryCellsWhateverTheThreads) {
  cw::io::SimulateOptions o;
  o.cells = 700;
  o.genes = 300;
  o.types = 3;
  o.batches = 3;
  o.seed = 11;
  o.cellsPerChunk = 128;
  o.threads = 1;
  const auto memory = cw::io::simulateDataset(o);
  const auto dir = cwtest::scratchDir("simulate");
  o.threads = 3;
  const auto result = cw::io::simulateToH5ad(o, dir / "sim.h5ad");
  EXPECT_EQ(result.nnz, memory.X.nnz());
  const auto read = cw::io::readDataset(dir / "sim.h5ad").dataset;
  EXPECT_EQ(read.X.indptr, memory.X.indptr);
  EXPECT_EQ(read.X.indices, memory.X.indices);
  EXPECT_EQ(read.X.data, memory.X.data);
  EXPECT_EQ(read.obs.at("cell_type").codes, memory.obs.at("cell_type").codes);
  EXPECT_EQ(read.obs.at("batch").categories, (std::vector<std::string>{"batch_0", "batch_1", "batch_2"}));
  EXPECT_EQ(read.countsSource, cw::CountsSource::X);
  EXPECT_EQ(std::get<int64_t>(read.uns.at("simulation").dict().at("seed").value), 11);
  std::filesystem::remove_all(dir);
}

TEST(Simulate, BadParametersAreRefused) {
  cw::io::SimulateOptions o;
  o.types = 0;
  EXPECT_THROW(cw::io::simulateDataset(o), cw::Error);
  o = {};
  o.cells = 0;
  EXPECT_THROW(cw::io::simulateDataset(o), cw::Error);
}
