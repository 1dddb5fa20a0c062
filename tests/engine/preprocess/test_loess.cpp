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
  for (auto surface : {LoessOptions::Surface::Interpolate, LoessOptions::Surface::Direct}) {
    const auto fit = loessFit(x, y, {0.3, 2, surface});
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(fit[i], y[i], 1e-9) << i;
  }
}

TEST(Loess, MatchesSkmiscBothSurfaces) {
  const auto t = test::readCsvGz(std::string(CELLWRIGHT_TEST_DATA_DIR) + "/preprocess/loess_span03.csv.gz");
  const auto x = t.numbers("x"), y = t.numbers("y");
  const auto direct = loessFit(x, y, {0.3, 2, LoessOptions::Surface::Direct});
  const auto interpolated = loessFit(x, y, {0.3, 2});  // skmisc's default surface
  const auto expectDirect = t.numbers("direct"), expectInterpolated = t.numbers("interpolate");
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(direct[i], expectDirect[i], 1e-9) << i;
    EXPECT_NEAR(interpolated[i], expectInterpolated[i], 1e-9) << i;
  }
}

TEST(Loess, RejectsTooFewPoints) {
  EXPECT_THROW(loessFit({1, 2, 3}, {1, 2, 3}, {0.3, 2}), Error);
  EXPECT_THROW(loessFit({1, 2, 3}, {1, 2}, {0.9, 2}), Error);
}

}  // namespace
}  // namespace cw::preprocess
