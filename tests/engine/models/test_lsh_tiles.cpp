// The tile program of the fused LSH CUDA kernels (lsh_tile_math.h: a block per row, round and
// chunk, tile products on the tensor cores) run on the CPU, by an executor that takes each
// thread's share of a phase in turn and the tile products as scalar sums, against the slot
// code's CPU loops on the same bf16 problems: every per-round output of forward and backward.
// The tiles round probabilities, score gradients and dOut to bf16 for the tensor cores, so
// they agree to bf16's precision, not exactly. Also the CUDA kernel's combination of rounds,
// one element at a time, against the log-sum-exp written out.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "lsh_slot_problem.h"
#include "lsh_tile_math.h"

namespace fused = cw::plugins::lsh::fused;
namespace tile = cw::plugins::lsh::tile;
using cw::test::relativeDifference;

namespace {

// The CUDA executor's contract on one CPU thread. `reversed`: threads take their shares
// last to first, so a phase whose threads depended on each other would give other results.
// Every phase after the first must follow a barrier: here all of a phase ends before the next
// begins, so a missing __syncthreads would pass unseen without this count. Tile products
// also keep wmma's operand rules, which scalar sums would not need: every 16×16 tile's
// first element 32-byte aligned, leading dimensions a multiple of 8 bf16 or 4 fp32 values.
struct CpuExec {
  bool reversed = false;
  mutable int phases = 0, unsynced = 0, misplacedTiles = 0;
  mutable bool synced = true;
  template <typename T>
  void tileAt(const T* first, int ld) const {
    const bool aligned = reinterpret_cast<uintptr_t>(first) % 32 == 0 && (ld * sizeof(T)) % 16 == 0;
    misplacedTiles += aligned ? 0 : 1;
  }
  void begin() const {
    unsynced += synced ? 0 : 1;
    synced = false;
    ++phases;
  }
  template <typename F>
  void each(F&& f) const {
    begin();
    for (int t = 0; t < tile::kThreads; ++t) f(reversed ? tile::kThreads - 1 - t : t, tile::kThreads);
  }
  void sync() const { synced = true; }
  void add(float* at, float x) const { *at += x; }
  template <int M, int N, int K, bool TransA, bool TransB>
  void product(const fused::Bf16* a, int lda, const fused::Bf16* b, int ldb, float* c, int ldc) const {
    static_assert(M % 16 == 0 && N % 16 == 0 && K % 16 == 0, "tensor-core tiles");
    begin();
    for (int i0 = 0; i0 < M; i0 += 16)  // where the CUDA executor loads and stores each tile
      for (int j0 = 0; j0 < N; j0 += 16) {
        for (int k0 = 0; k0 < K; k0 += 16) {
          tileAt(TransA ? a + k0 * lda + i0 : a + i0 * lda + k0, lda);
          tileAt(TransB ? b + j0 * ldb + k0 : b + k0 * ldb + j0, ldb);
        }
        tileAt(c + i0 * ldc + j0, ldc);
      }
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        float sum = 0;
        for (int k = 0; k < K; ++k)
          sum += static_cast<float>(TransA ? a[k * lda + i] : a[i * lda + k]) *
                 static_cast<float>(TransB ? b[j * ldb + k] : b[k * ldb + j]);
        c[i * ldc + j] = sum;
      }
  }
};

struct Outputs {
  std::vector<float> out, lse, dq, dk, dv;
  template <typename T>
  Outputs(const fused::Problem<T, float>& p, int width) {
    const size_t perRound = static_cast<size_t>(p.rows) * p.rounds * p.length;
    out.assign(perRound * width, 0), lse.assign(perRound, 0);
    dq.assign(perRound * width, 0), dk.assign(perRound * width, 0), dv.assign(perRound * width, 0);
  }
  template <typename T>
  void into(fused::Problem<T, float>& p) {
    p.roundOut = out.data(), p.roundLse = lse.data(), p.dq = dq.data(), p.dk = dk.data(), p.dv = dv.data();
  }
};

template <int B, int D>
Outputs byTiles(tile::Problem p, bool reversed) {
  Outputs o(p, D);
  // What the tiles write goes to uninitialised memory on the GPU (NaN here: a value read
  // before it is written shows); dk and dv, which they add to, are zeroed by the launch.
  for (auto* written : {&o.out, &o.lse, &o.dq}) std::fill(written->begin(), written->end(), NAN);
  o.into(p);
  const CpuExec e{reversed};
  const auto bytes = tile::carve<B, D>(nullptr, p.rounds, true).bytes;
  std::unique_ptr<char, decltype(&std::free)> shared(static_cast<char*>(std::aligned_alloc(128, bytes)), &std::free);
  const int64_t tiles = static_cast<int64_t>(p.rows) * p.rounds * (p.length / B);
  for (int64_t t = 0; t < tiles; ++t) {
    tile::forwardTile<B, D>(e, p, t, shared.get());
    e.synced = true;  // a block's first phase needs no barrier
  }
  for (int64_t t = 0; t < tiles; ++t) {
    tile::backwardTile<B, D>(e, p, t, shared.get());
    e.synced = true;
  }
  EXPECT_EQ(e.unsynced, 0) << "phases run without a barrier before them";
  EXPECT_EQ(e.misplacedTiles, 0) << "tensor-core tiles misaligned or with a leading dimension wmma refuses";
  EXPECT_EQ(e.phases, tiles * (6 + 11));  // forward: gather, 2 products, 3 passes; backward: gather, 5 products, 5 passes
  return o;
}

Outputs bySlots(tile::Problem p, int width) {
  Outputs o(p, width);
  o.into(p);
  const int64_t chunks = static_cast<int64_t>(p.rows) * p.rounds * p.length / p.bucket;
  for (auto pass : {fused::Pass::Forward, fused::Pass::QueryGradients, fused::Pass::KeyGradients})
    fused::cpu_baseline::runChunks(p, width, pass, 0, chunks);
  return o;
}

template <int B, int D>
void expectTilesMatchSlots(int rows, int rounds, int length, bool dedup) {
  const cw::test::LshSlotProblem data(rows, rounds, length, B, D, 11);
  auto p = data.problem(data.q16, data.k16, data.v16);
  if (!dedup) p.chunkOf = nullptr;
  const Outputs tiles = byTiles<B, D>(p, false), slots = bySlots(p, D);
  EXPECT_LT(relativeDifference(tiles.out, slots.out), 1e-2);
  EXPECT_LT(relativeDifference(tiles.lse, slots.lse), 1e-3);
  EXPECT_LT(relativeDifference(tiles.dq, slots.dq), 1e-2);
  EXPECT_LT(relativeDifference(tiles.dk, slots.dk), 1e-2);
  EXPECT_LT(relativeDifference(tiles.dv, slots.dv), 1e-2);
  // No phase's threads depend on each other: the other order gives the same bits.
  const Outputs reversed = byTiles<B, D>(p, true);
  EXPECT_EQ(reversed.out, tiles.out);
  EXPECT_EQ(reversed.dq, tiles.dq);
  EXPECT_EQ(reversed.dk, tiles.dk);
  EXPECT_EQ(reversed.dv, tiles.dv);
}

}  // namespace

TEST(LshTiles, MatchTheSlotCodeWithDeduplicatedRoundsAndPadding) {
  expectTilesMatchSlots<16, 16>(2, 3, 64, true);  // four chunks a round
}

TEST(LshTiles, MatchTheSlotCodeWithTwoChunksAndOneRound) {
  // Two chunks: each is the other's look-back, so a key's two shares come from both tiles.
  expectTilesMatchSlots<16, 32>(1, 1, 32, false);
}

TEST(LshTiles, MatchTheSlotCodeAtWiderBuckets) {
  expectTilesMatchSlots<32, 16>(2, 2, 128, true);
}

TEST(LshTiles, MatchTheSlotCodeAtTheReferenceShape) {
  // Buckets of 64 and 64 per head, as the paper preset runs: the softmax then takes all 256
  // threads of a block (64 queries × 4).
  expectTilesMatchSlots<64, 64>(1, 2, 256, true);
}

TEST(LshTiles, ReferenceShapeFitsTwoBlocksToAnH100Multiprocessor) {
  // Buckets of 64, 64 per head, 4 rounds: forward and backward each within half an SM's
  // 228 KiB less the 1 KiB the system keeps per block, so that two blocks run side by side;
  // at 16 rounds within the 227 KiB one block may opt in to.
  const size_t half = 228 * 1024 / 2 - 1024;
  const size_t forward = tile::carve<64, 64>(nullptr, 4, false).bytes, backward = tile::carve<64, 64>(nullptr, 4, true).bytes;
  EXPECT_LE(forward, half);
  EXPECT_LE(backward, half);
  const size_t most = tile::carve<64, 64>(nullptr, fused::kMaxRounds, true).bytes;
  EXPECT_LE(most, 227u * 1024);
}

TEST(LshRoundCombine, ElementByElementAsTheLogSumExpOfRounds) {
  // Rounds' outputs and log-sum-exps from the slot code's forward, combined as the CUDA
  // kernel does (combinedLse, combinedValue) and in double from their definition.
  const cw::test::LshSlotProblem data(2, 3, 32, 8, 16);
  auto p = data.problem(data.q, data.k, data.v);
  Outputs rounds(p, 16);
  rounds.into(p);
  fused::cpu_baseline::runChunks(p, 16, fused::Pass::Forward, 0, static_cast<int64_t>(p.rows) * p.rounds * p.length / p.bucket);
  std::vector<float> got, want;
  for (int32_t row = 0; row < p.rows; ++row)
    for (int32_t position = 0; position < p.length; ++position) {
      double total = 0;
      for (int32_t r = 0; r < p.rounds; ++r) total += std::exp(static_cast<double>(rounds.lse[(row * p.rounds + r) * p.length + position]));
      const float lse = fused::combinedLse(p, row, position);
      EXPECT_NEAR(lse, std::log(total), 1e-5);
      for (int c = 0; c < 16; ++c) {
        double value = 0;
        for (int32_t r = 0; r < p.rounds; ++r) {
          const size_t at = static_cast<size_t>(row * p.rounds + r) * p.length + position;
          value += std::exp(rounds.lse[at] - std::log(total)) * rounds.out[at * 16 + c];
        }
        want.push_back(static_cast<float>(value));
        got.push_back(fused::combinedValue(p, 16, row, position, c, lse));
      }
    }
  EXPECT_LT(relativeDifference(got, want), 1e-6);
}
