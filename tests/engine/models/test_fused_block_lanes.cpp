// The row code the fused residual LayerNorm's CUDA kernel runs (a row split over a warp's 32
// lanes, their sums by a warp total; warp w taking rows w, w + warps, … and adding into
// partial dγ/dβ row w), run on the CPU: threads as the lanes, a barrier as the shuffles.
// Against the CPU loops' one-lane run of the same problem.
#include <gtest/gtest.h>

#include <array>
#include <barrier>
#include <cmath>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include "fused_block_math.h"

namespace fused = cw::plugins::fused;

namespace {

constexpr int kLanes = 32;

// Runs body(warp, lane, total) on `warps` warps of 32 threads; total(v) gives every lane of
// the warp the sum of its lanes' v (in lane order: the shuffles also give all lanes one sum).
template <typename Body>
void runWarps(int warps, Body body) {
  struct Warp {
    std::barrier<> sync{kLanes};
    std::array<float, kLanes> slot{};
  };
  std::vector<Warp> state(static_cast<size_t>(warps));
  std::vector<std::thread> threads;
  for (int w = 0; w < warps; ++w)
    for (int lane = 0; lane < kLanes; ++lane)
      threads.emplace_back([&, w, lane] {
        Warp& warp = state[static_cast<size_t>(w)];
        auto total = [&](float v) {
          warp.slot[static_cast<size_t>(lane)] = v;
          warp.sync.arrive_and_wait();
          float sum = 0;
          for (float x : warp.slot) sum += x;
          warp.sync.arrive_and_wait();  // nobody writes a slot before every lane has read them
          return sum;
        };
        body(w, lane, total);
      });
  for (auto& t : threads) t.join();
}

template <typename Y>
Y valueOf(float v) {
  if constexpr (std::is_same_v<Y, fused::Bf16>)
    return fused::Bf16::of(v);
  else
    return v;
}

template <typename Y>
struct Buffers {
  int64_t rows, dim, workers;
  std::vector<float> x, gamma, beta, out, sum, mean, rstd, dOut, dx, dGamma, dBeta;
  std::vector<Y> y, dy;
  std::vector<fused::Bf16> outLow, dOutLow;

  Buffers(int64_t rows, int64_t dim, int64_t workers) : rows(rows), dim(dim), workers(workers) {
    std::mt19937 random(5);
    std::normal_distribution<float> normal;
    const auto n = static_cast<size_t>(rows * dim);
    auto fill = [&](std::vector<float>& v, size_t count, float scale, float shift) {
      v.resize(count);
      for (auto& e : v) e = normal(random) * scale + shift;
    };
    fill(x, n, 3, 1);
    fill(gamma, static_cast<size_t>(dim), 0.3f, 1);
    fill(beta, static_cast<size_t>(dim), 1, 0);
    fill(dOut, n, 1, 0);
    std::vector<float> y32;
    fill(y32, n, 1, 0);
    for (float v : y32) y.push_back(valueOf<Y>(v));
    std::vector<float> low;
    fill(low, n, 1, 0);
    for (float v : low) dOutLow.push_back(fused::Bf16::of(v));
    out.resize(n), sum.resize(n), dx.resize(n), dy.resize(n), outLow.resize(n);
    mean.resize(static_cast<size_t>(rows)), rstd.resize(static_cast<size_t>(rows));
    dGamma.assign(static_cast<size_t>(workers * dim), 0);
    dBeta.assign(static_cast<size_t>(workers * dim), 0);
  }

  fused::ResidualNormProblem<float, Y> problem(bool withLow) {
    fused::ResidualNormProblem<float, Y> p{};
    p.x = x.data(), p.y = y.data(), p.gamma = gamma.data(), p.beta = beta.data();
    p.out = out.data(), p.outLow = withLow ? outLow.data() : nullptr, p.sum = sum.data();
    p.mean = mean.data(), p.rstd = rstd.data(), p.dOut = dOut.data();
    p.dOutLow = withLow ? dOutLow.data() : nullptr, p.dx = dx.data(), p.dy = dy.data();
    p.dGammaPartial = dGamma.data(), p.dBetaPartial = dBeta.data();
    p.rows = rows, p.dim = static_cast<int32_t>(dim), p.eps = 1e-5f;
    p.dropout.seed = 0x9e3779b97f4a7c15ull;
    p.dropout.dropThreshold = 1u << 30;  // p = 0.25
    p.dropout.keepScale = 1.0f / 0.75f;
    return p;
  }

  // dγ and dβ: the workers' partial rows summed.
  std::vector<float> summed(const std::vector<float>& partial) const {
    std::vector<float> total(static_cast<size_t>(dim), 0);
    for (int64_t w = 0; w < workers; ++w)
      for (int64_t j = 0; j < dim; ++j) total[static_cast<size_t>(j)] += partial[static_cast<size_t>(w * dim + j)];
    return total;
  }
};

template <typename T>
double worstRelative(const std::vector<T>& got, const std::vector<T>& want) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) scale = std::max(scale, std::abs(static_cast<double>(static_cast<float>(want[i]))));
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(static_cast<float>(got[i])) -
                                     static_cast<double>(static_cast<float>(want[i]))));
  return worst / std::max(scale, 1e-30);
}

template <typename Y, bool WithLow>
void checkWarpsAgainstOneLane() {
  // 7 rows over 2 warps (rows 0, 2, … and 1, 3, …); 80 values a row: lanes 0–15 take three,
  // 16–31 two.
  const int64_t rows = 7, dim = 80;
  const int warps = 2;
  Buffers<Y> lanes(rows, dim, warps), one(rows, dim, 1);
  const auto identity = [](float v) { return v; };
  auto p1 = one.problem(WithLow);
  for (int64_t row = 0; row < rows; ++row) fused::residualNormForwardRow<1, WithLow>(p1, row, 0, identity);
  for (int64_t row = 0; row < rows; ++row) fused::residualNormBackwardRow<1, WithLow>(p1, row, 0, 0, identity);

  auto p32 = lanes.problem(WithLow);
  runWarps(warps, [&](int warp, int lane, auto total) {
    for (int64_t row = warp; row < rows; row += warps) fused::residualNormForwardRow<kLanes, WithLow>(p32, row, lane, total);
  });
  runWarps(warps, [&](int warp, int lane, auto total) {
    for (int64_t row = warp; row < rows; row += warps)
      fused::residualNormBackwardRow<kLanes, WithLow>(p32, row, warp, lane, total);
  });

  EXPECT_LT(worstRelative(lanes.out, one.out), 1e-6);
  EXPECT_LT(worstRelative(lanes.sum, one.sum), 1e-7);
  EXPECT_LT(worstRelative(lanes.mean, one.mean), 1e-6);
  EXPECT_LT(worstRelative(lanes.rstd, one.rstd), 1e-6);
  if (WithLow) {
    EXPECT_LT(worstRelative(lanes.outLow, one.outLow), 1e-2);  // one bf16 step at most
    EXPECT_GT(worstRelative(lanes.outLow, std::vector<fused::Bf16>(lanes.outLow.size())), 0.1);  // written
  }
  EXPECT_LT(worstRelative(lanes.dx, one.dx), 1e-5);
  constexpr double dyTolerance = std::is_same_v<Y, fused::Bf16> ? 1e-2 : 1e-5;  // dy rounded to bf16
  EXPECT_LT(worstRelative(lanes.dy, one.dy), dyTolerance);
  EXPECT_LT(worstRelative(lanes.summed(lanes.dGamma), one.summed(one.dGamma)), 1e-5);
  EXPECT_LT(worstRelative(lanes.summed(lanes.dBeta), one.summed(one.dBeta)), 1e-5);
  // Each warp added only its own rows' terms: warp 1's partial row is not the whole sum.
  std::vector<float> warp1(lanes.dBeta.begin() + dim, lanes.dBeta.end());
  EXPECT_GT(worstRelative(warp1, one.summed(one.dBeta)), 0.05);
}

TEST(FusedBlockLanes, WarpRowsAgreeWithOneLaneForFp32Sublayer) { checkWarpsAgainstOneLane<float, false>(); }

TEST(FusedBlockLanes, WarpRowsAgreeWithOneLaneForBf16SublayerAndCopy) {
  checkWarpsAgainstOneLane<fused::Bf16, true>();
}

}  // namespace
