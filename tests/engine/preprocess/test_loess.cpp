// loess against exact polynomials and skmisc's loess (surface "direct").
#include <gtest/gtest.h>

#include <cmath>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/loess.h"
#include "fixture_csv.h"

namespace cw::preprocess {
namespace {

TEST(Loess, ReproducesAQuadraticExactly) {
  std::vector<double> x, y;
  for (int i = 0; i < 40; ++i) {
    const double v = -3.0 + 0.17 * i + 0.01 * (i % 3);
    x.push_back(v);
    y.push_back(1.0 + 2.0 * v - 0.5 * v * v);
  }
  const auto fit = loessFit(x, y, {0.3, 2});
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(fit[i], y[i], 1e-9) << i;
}

TEST(Loess, MatchesSkmiscDirectSurface) {
  const auto t = test::readCsvGz(std::string(CELLWRIGHT_TEST_DATA_DIR) + "/preprocess/loess_span03.csv.gz");
  const auto x = t.numbers("x"), y = t.numbers("y"), expected = t.numbers("direct");
  const auto fit = loessFit(x, y, {0.3, 2});
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(fit[i], expected[i], 1e-9) << i;
}

TEST(Loess, RejectsTooFewPoints) {
  EXPECT_THROW(loessFit({1, 2, 3}, {1, 2, 3}, {0.3, 2}), Error);
  EXPECT_THROW(loessFit({1, 2, 3}, {1, 2}, {0.9, 2}), Error);
}

}  // namespace
}  // namespace cw::preprocess
