#pragma once
// Fused LSH attention by chunk tiles, for tensor cores (cuda/lsh_tile.cu). One thread block
// takes one (row, round, chunk): it gathers the chunk's B query rows and the 2B key and value
// rows of their window (the own chunk, then the one before it, as the slot code pairs them)
// into shared memory, and takes scores, the softmax's product and the gradients as bf16 tile
// products summed in fp32. Masking and round deduplication are the slot code's
// (lsh_fused_math.h: pairScore), and the results go to the same per-round outputs, so the
// host code combines rounds as before. bf16 inputs only (autocast); fp32 stays on the slot
// kernels.
//
// The slot kernels give each slot a thread and do every multiply-add on the CUDA cores;
// here the tile products (B×2B×D for scores, and the same again for each product after it)
// go to the tensor cores, and a window's rows are read once per block, not once per warp.
//
// The program is written once against an executor: the CUDA kernel's (a block's threads,
// __syncthreads, wmma tiles, atomic adds) or a test's on the CPU (each thread's share in
// turn, scalar products), so that the tests check this code against the slot code.
//
// Executor interface (e):
//   e.each(f)        f(thread, threads) for every thread of the block: one phase's work
//   e.sync()         barrier between phases
//   e.product<M, N, K, TransA, TransB>(a, lda, b, ldb, c, ldc)
//                    c[M×N] (fp32, row-major) = A·B over bf16 operands, where A is stored
//                    M×K row-major (a[i·lda + k]) or, TransA, K×M (a[k·lda + i]); B is K×N
//                    (b[k·ldb + j]) or, TransB, N×K (b[j·ldb + k]); all sizes multiples of 16
//   e.add(at, x)     *at += x, atomically (a key row gets two blocks' shares)
#include "lsh_fused_math.h"

namespace cw::plugins::lsh::tile {

using fused::Bf16;
using Problem = fused::Problem<Bf16, float>;

inline constexpr int kThreads = 256;

// The bucket sizes and head widths the tile kernels are compiled for.
CW_LSH_HD constexpr bool shapeCompiled(int64_t bucket, int64_t d) {
  return (bucket == 16 || bucket == 32 || bucket == 64) && (d == 16 || d == 32 || d == 64);
}

// Shared-memory strides (elements): rows padded against bank conflicts, keeping every 16×16
// tile 32-byte aligned and every row 16-byte aligned, as tensor-core loads need.
template <int B, int D>
struct Shape {
  static constexpr int kKeys = 2 * B;              // a query's window
  static constexpr int kRowStride = D + 8;         // bf16 rows of q, k, v, dOut
  static constexpr int kPairStride = kKeys + 8;    // bf16 [query][key]
  static constexpr int kScoreStride = kKeys + 4;   // fp32 [query][key]
  static constexpr int kOutStride = D + 4;         // fp32 rows of D values
  static constexpr int kParts = 4;                 // threads per query row in the softmax
  static_assert(B % 16 == 0 && D % 16 == 0 && B * kParts <= kThreads);
};

// The block's shared memory, carved from `base` (null: only the size is worked out).
template <int B, int D>
struct Memory {
  Bf16 *q, *k, *v, *dOut;   // gathered rows: B, 2B, 2B, B (backward)
  Bf16* probs;              // [B][kPairStride]: probabilities (backward: then score gradients)
  float* work;              // scores, then each product in turn
  int32_t *queryPos, *keyPos, *keyPadded;  // [B], [2B], [2B]
  int32_t *queryChunks, *keyChunks;        // [B][R], [2B][R]: chunk per round (deduplicated rounds)
  float *partMax, *partSum;                // [B][kParts]
  float *rowLse, *rowDelta;                // [B] (backward: the combined log-sum-exp, delta)
  size_t bytes;
};

template <int B, int D>
CW_LSH_HD Memory<B, D> carve(char* base, int32_t rounds, bool backward) {
  using S = Shape<B, D>;
  Memory<B, D> m{};
  size_t at = 0;
  auto take = [&](size_t bytes) {
    char* p = base ? base + at : nullptr;
    at += (bytes + 127) / 128 * 128;
    return p;
  };
  auto rows = [&](int count) { return reinterpret_cast<Bf16*>(take(sizeof(Bf16) * count * S::kRowStride)); };
  auto ints = [&](int count) { return reinterpret_cast<int32_t*>(take(sizeof(int32_t) * count)); };
  auto floats = [&](size_t count) { return reinterpret_cast<float*>(take(sizeof(float) * count)); };
  m.q = rows(B), m.k = rows(S::kKeys), m.v = rows(S::kKeys);
  m.dOut = backward ? rows(B) : nullptr;
  m.probs = reinterpret_cast<Bf16*>(take(sizeof(Bf16) * B * S::kPairStride));
  // Scores, then each product in turn: [B][kScoreStride] or up to [2B][kOutStride]. (Forward's
  // ~100 KiB at the reference shape lets two blocks share an H100 SM.)
  const size_t scores = static_cast<size_t>(B) * S::kScoreStride;
  const size_t keyRows = static_cast<size_t>(backward ? S::kKeys : B) * S::kOutStride;
  m.work = floats(scores > keyRows ? scores : keyRows);
  m.queryPos = ints(B), m.keyPos = ints(S::kKeys), m.keyPadded = ints(S::kKeys);
  m.queryChunks = ints(B * rounds), m.keyChunks = ints(S::kKeys * rounds);
  m.partMax = floats(B * S::kParts), m.partSum = floats(B * S::kParts);
  m.rowLse = floats(B), m.rowDelta = floats(B);
  m.bytes = at;
  return m;
}

// Which block this is: its row, round, and the first slots of its chunk and of the one
// before it in the round (the round's first chunk pairs with its last).
struct Tile {
  int32_t row, round, chunks, own, other;
};

template <int B>
CW_LSH_HD Tile tileOf(const Problem& p, int64_t index) {
  Tile t;
  t.chunks = p.length / B;
  const int64_t perRow = static_cast<int64_t>(p.rounds) * t.chunks;
  t.row = static_cast<int32_t>(index / perRow);
  const auto rest = static_cast<int32_t>(index % perRow);
  t.round = rest / t.chunks;
  const int32_t chunk = rest % t.chunks, roundStart = t.round * p.length;
  t.own = roundStart + chunk * B;
  t.other = roundStart + ((chunk + t.chunks - 1) % t.chunks) * B;
  return t;
}

// Window slot j of the tile (its own chunk's B slots, then the other chunk's).
template <int B>
CW_LSH_HD int32_t windowSlot(const Tile& t, int j) {
  return j < B ? t.own + j : t.other + (j - B);
}

// Offset of (the tile's row and round, position) in the per-round [N, R, L] arrays.
CW_LSH_HD int64_t roundOffset(const Problem& p, const Tile& t, int32_t position) {
  return (static_cast<int64_t>(t.row) * p.rounds + t.round) * p.length + position;
}

CW_LSH_HD void copyEight(Bf16* to, const Bf16* from) {
#if defined(__CUDA_ARCH__)
  *reinterpret_cast<uint4*>(to) = *reinterpret_cast<const uint4*>(from);
#else
  __builtin_memcpy(to, from, 8 * sizeof(Bf16));
#endif
}

// Gathers the tile's rows and what the masks need; backward also dOut (rounded to bf16),
// the combined log-sum-exp and delta of its queries.
template <int B, int D, typename Exec>
CW_LSH_HD void gather(const Exec& e, const Problem& p, const Tile& t, const Memory<B, D>& m, bool backward) {
  using S = Shape<B, D>;
  const int32_t* slotPos = p.slotPos + static_cast<int64_t>(t.row) * p.rounds * p.length;
  const int64_t rowStart = static_cast<int64_t>(t.row) * p.length;
  e.each([&](int thread, int threads) {
    // Rows: B queries then 2B keys, D / 8 pieces of eight values each.
    constexpr int kPieces = D / 8;
    for (int task = thread; task < 3 * B * kPieces; task += threads) {
      const int r = task / kPieces, at = (task % kPieces) * 8;
      if (r < B) {
        const int32_t position = slotPos[t.own + r];
        const int64_t from = (rowStart + position) * D + at;
        copyEight(m.q + r * S::kRowStride + at, p.q + from);
        if (backward)
          for (int i = 0; i < 8; ++i) m.dOut[r * S::kRowStride + at + i] = Bf16::of(p.dOut[from + i]);
      } else {
        const int j = r - B;
        const int64_t from = (rowStart + slotPos[windowSlot<B>(t, j)]) * D + at;
        copyEight(m.k + j * S::kRowStride + at, p.k + from);
        copyEight(m.v + j * S::kRowStride + at, p.v + from);
      }
    }
    for (int r = thread; r < 3 * B; r += threads) {
      const bool query = r < B;
      const int j = r - B;
      const int32_t position = slotPos[query ? t.own + r : windowSlot<B>(t, j)];
      if (query) {
        m.queryPos[r] = position;
        if (backward) {
          m.rowLse[r] = p.lse[rowStart + position];
          m.rowDelta[r] = p.delta[rowStart + position];
        }
      } else {
        m.keyPos[j] = position;
        m.keyPadded[j] = p.padding && p.padding[rowStart + position] ? 1 : 0;
      }
      if (p.chunkOf) {
        const int32_t* chunkOf = p.chunkOf + (rowStart + position) * p.rounds;
        int32_t* to = query ? m.queryChunks + r * p.rounds : m.keyChunks + j * p.rounds;
        for (int32_t round = 0; round < p.rounds; ++round) to[round] = chunkOf[round];
      }
    }
  });
}

// The score of query i and window key j given q·k, as the slot code's pairScore gives it:
// a constant for the query's own slot and for a padding key; otherwise scaled, and with
// rounds deduplicated lowered by log(rounds the pair meets in).
template <int B, int D>
CW_LSH_HD float pairScore(const Problem& p, const Tile& t, const Memory<B, D>& m, int i, int j, float dot,
                          bool& constant) {
  constant = true;
  if (windowSlot<B>(t, j) == t.own + i) return p.selfScore;
  if (m.keyPadded[j]) return p.paddingScore;
  constant = false;
  float score = dot * p.scale;
  if (p.chunkOf) {
    const int32_t *mine = m.queryChunks + i * p.rounds, *theirs = m.keyChunks + j * p.rounds;
    int32_t met = 0;
    for (int32_t r = 0; r < p.rounds; ++r)  // the key in the query's chunk or the one before
      met += (theirs[r] == mine[r] || theirs[r] == (mine[r] + t.chunks - 1) % t.chunks) ? 1 : 0;
    if (met > 1) score -= p.logOfCount[met];
  }
  return score;
}

// Forward of one tile: per query, the softmax over its window and the weighted values,
// written to roundOut and roundLse.
template <int B, int D, typename Exec>
CW_LSH_HD void forwardTile(const Exec& e, const Problem& p, int64_t index, char* shared) {
  using S = Shape<B, D>;
  const Tile t = tileOf<B>(p, index);
  const Memory<B, D> m = carve<B, D>(shared, p.rounds, false);
  float *scores = m.work, *out = m.work;  // the output once the probabilities are taken
  gather<B, D>(e, p, t, m, false);
  e.sync();
  e.template product<B, S::kKeys, D, false, true>(m.q, S::kRowStride, m.k, S::kRowStride, scores, S::kScoreStride);
  e.sync();
  // Each query row in kParts threads, a thread every kParts-th key (no bank conflicts).
  e.each([&](int thread, int) {
    if (thread >= B * S::kParts) return;
    const int i = thread / S::kParts, part = thread % S::kParts;
    float* row = scores + i * S::kScoreStride;
    float top = -INFINITY;
    for (int j = part; j < S::kKeys; j += S::kParts) {
      bool constant;
      row[j] = pairScore<B, D>(p, t, m, i, j, row[j], constant);
      top = row[j] > top ? row[j] : top;
    }
    m.partMax[thread] = top;
  });
  e.sync();
  e.each([&](int thread, int) {
    if (thread >= B * S::kParts) return;
    const int i = thread / S::kParts, part = thread % S::kParts;
    const float* partMax = m.partMax + i * S::kParts;
    float top = partMax[0];
    for (int k = 1; k < S::kParts; ++k) top = partMax[k] > top ? partMax[k] : top;
    float sum = 0;
    for (int j = part; j < S::kKeys; j += S::kParts) {
      const Bf16 weight = Bf16::of(fused::expOf(scores[i * S::kScoreStride + j] - top));
      m.probs[i * S::kPairStride + j] = weight;
      sum += static_cast<float>(weight);  // the weights the product sums, as rounded
    }
    m.partSum[thread] = sum;
  });
  e.sync();
  e.template product<B, D, S::kKeys, false, false>(m.probs, S::kPairStride, m.v, S::kRowStride, out, S::kOutStride);
  e.sync();
  e.each([&](int thread, int threads) {
    for (int task = thread; task < B * D; task += threads) {
      const int i = task / D, c = task % D;
      float top = m.partMax[i * S::kParts], sum = 0;
      for (int k = 0; k < S::kParts; ++k) {
        top = m.partMax[i * S::kParts + k] > top ? m.partMax[i * S::kParts + k] : top;
        sum += m.partSum[i * S::kParts + k];
      }
      const int64_t at = roundOffset(p, t, m.queryPos[i]);
      p.roundOut[at * D + c] = out[i * S::kOutStride + c] / sum;
      if (c == 0) p.roundLse[at] = top + fused::logOf(sum);
    }
  });
}

// Backward of one tile, with P the probabilities against the combined log-sum-exp of each
// query's position and dScore = P ∘ (dOut·vᵀ − delta): the tile's queries' dq (theirs alone),
// and its keys' shares of dk and dv, added to what the tile of the next chunk adds (the two
// blocks that see a key in a round: two additions onto zero, so the order cannot show).
// dk and dv must be zero before the first tile. One score-sized buffer serves every product
// in turn, and dScore replaces P once dv is taken (~130 KiB at the reference shape).
template <int B, int D, typename Exec>
CW_LSH_HD void backwardTile(const Exec& e, const Problem& p, int64_t index, char* shared) {
  using S = Shape<B, D>;
  const Tile t = tileOf<B>(p, index);
  const Memory<B, D> m = carve<B, D>(shared, p.rounds, true);
  float* work = m.work;
  // Adds the tile's [2B][D] share in `work` to the keys' rows of `to` (dk or dv).
  auto addKeyRows = [&](float* to) {
    e.each([&](int thread, int threads) {
      for (int task = thread; task < S::kKeys * D; task += threads) {
        const int j = task / D, c = task % D;
        e.add(to + roundOffset(p, t, m.keyPos[j]) * D + c, work[j * S::kOutStride + c]);
      }
    });
  };
  gather<B, D>(e, p, t, m, true);
  e.sync();
  e.template product<B, S::kKeys, D, false, true>(m.q, S::kRowStride, m.k, S::kRowStride, work, S::kScoreStride);
  e.sync();
  e.each([&](int thread, int threads) {
    for (int task = thread; task < B * S::kKeys; task += threads) {
      const int i = task / S::kKeys, j = task % S::kKeys;
      bool constant;
      const float score = pairScore<B, D>(p, t, m, i, j, work[i * S::kScoreStride + j], constant);
      m.probs[i * S::kPairStride + j] = Bf16::of(fused::expOf(score - m.rowLse[i]));
    }
  });
  e.sync();
  e.template product<S::kKeys, D, B, true, false>(m.probs, S::kPairStride, m.dOut, S::kRowStride, work, S::kOutStride);
  e.sync();
  addKeyRows(p.dv);
  e.sync();
  e.template product<B, S::kKeys, D, false, true>(m.dOut, S::kRowStride, m.v, S::kRowStride, work, S::kScoreStride);
  e.sync();
  e.each([&](int thread, int threads) {  // dScore in P's place; none for a constant score
    for (int task = thread; task < B * S::kKeys; task += threads) {
      const int i = task / S::kKeys, j = task % S::kKeys;
      Bf16& at = m.probs[i * S::kPairStride + j];
      const bool constant = windowSlot<B>(t, j) == t.own + i || m.keyPadded[j];
      at = Bf16::of(constant ? 0.0f : static_cast<float>(at) * (work[i * S::kScoreStride + j] - m.rowDelta[i]) * p.scale);
    }
  });
  e.sync();
  e.template product<S::kKeys, D, B, true, false>(m.probs, S::kPairStride, m.q, S::kRowStride, work, S::kOutStride);
  e.sync();
  addKeyRows(p.dk);
  e.sync();
  e.template product<B, D, S::kKeys, false, false>(m.probs, S::kPairStride, m.k, S::kRowStride, work, S::kOutStride);
  e.sync();
  e.each([&](int thread, int threads) {
    for (int task = thread; task < B * D; task += threads) {
      const int i = task / D, c = task % D;
      p.dq[roundOffset(p, t, m.queryPos[i]) * D + c] = work[i * S::kOutStride + c];
    }
  });
}

// Runs the forward or backward tiles of `p` (bucket p.bucket, head width `d`) on the CUDA
// stream `stream` (a cudaStream_t), asynchronously, zeroing dk and dv first for backward;
// cuda/lsh_tile.cu. `taken` false: not compiled for this shape, or the device's shared
// memory per block is too small (the slot kernels then run). Returns null, or the CUDA error.
const char* runOnCuda(const Problem& p, int64_t d, bool backward, void* stream, bool& taken);

}  // namespace cw::plugins::lsh::tile
