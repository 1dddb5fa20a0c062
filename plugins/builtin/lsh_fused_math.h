#pragma once
// The per-slot arithmetic of fused LSH attention, written once for the CPU loops
// (lsh_fused.cpp) and the CUDA kernels (cuda/lsh_fused.cu): no torch, no allocation.
//
// A row n (one batch item × head) holds R·L sorted slots: slot s lies in hash round s / L,
// its chunk is s / bucket, and it stands for sequence position slotPos[s]. A query slot
// attends to the keys of its own chunk and of the chunk before it in the same round (the
// round's first chunk looks at its last), except itself (a constant score) and padding.
// Nothing is gathered or stored per chunk: each task reads q, k, v rows by position, so
// the torch formulation's copies of q, k, v in sorted order (and twice for the look-back),
// and its score tensors, never exist.
//
// Each task writes its result for (row, round, position); rounds are combined outside by
// their log-sum-exp. Tasks never write the same place, so they need no atomics.
#include <math.h>
#include <stdint.h>

#include <type_traits>

#include "fused_scalar.h"

#define CW_LSH_HD CW_FUSED_HD

namespace cw::plugins::lsh::fused {

using cw::plugins::fused::Bf16;
using cw::plugins::fused::floatOfBits;

// Rows read eight values at a time: on the GPU (16-byte loads), and in the test that checks
// that code on the CPU (CW_LSH_VECTOR_ROWS).
#if defined(__CUDA_ARCH__) || defined(CW_LSH_VECTOR_ROWS)
#define CW_LSH_USE_VECTOR_ROWS true
#else
#define CW_LSH_USE_VECTOR_ROWS false
#endif
#if defined(__CUDACC__)
#define CW_LSH_UNROLL _Pragma("unroll")
#else
#define CW_LSH_UNROLL _Pragma("GCC unroll 8")
#endif

// Hash rounds the slot code handles (per-slot arrays are this long).
inline constexpr int kMaxRounds = 16;
// Keys scored at a time in forward: buckets must be a multiple of half of it.
inline constexpr int kKeyBlock = 8;

// Raw views of the inputs and outputs, all contiguous. T: the input type; Acc: float (or
// double for double input), the type of every sum and of the outputs.
template <typename T, typename Acc>
struct Problem {
  const T *q, *k, *v;         // [N, L, D]; k the L2-normalised q (shared QK)
  const int32_t* slotPos;     // [N, R·L]: sequence position of each sorted slot
  const int32_t* chunkOf;     // [N, L, R]: chunk within round r of each position; null = rounds not deduplicated
  const uint8_t* padding;     // [N, L], 1 = padding key; null = none
  int32_t rows, rounds, length, bucket;
  Acc scale, paddingScore, selfScore;
  Acc logOfCount[kMaxRounds + 1];  // log(m): m the number of rounds a pair meets in (logs are slow)
  // Forward outputs: per round, the output and log-sum-exp of each position's query.
  Acc *roundOut, *roundLse;  // [N, R, L, D], [N, R, L]
  // Backward inputs: upstream gradient of the combined output, the combined log-sum-exp
  // and delta = rowsum(dOut ∘ out), per position.
  const Acc *dOut, *lse, *delta;  // [N, L, D], [N, L], [N, L]
  // Backward outputs, per round (summed over rounds outside).
  Acc *dq, *dk, *dv;  // [N, R, L, D]
};

// The slot functions are built once per instruction set (lsh_fused_cpu.cpp): each build
// names its own namespace, so the linker never merges an AVX2 copy with a baseline one.
#ifndef CW_LSH_ISA
#define CW_LSH_ISA portable
#endif
inline namespace CW_LSH_ISA {

template <typename Acc>
CW_LSH_HD Acc expOf(Acc x) {
  return exp(x);
}
template <>
CW_LSH_HD float expOf<float>(float x) {
  return expf(x);
}
template <typename Acc>
CW_LSH_HD Acc logOf(Acc x) {
  return log(x);
}
template <>
CW_LSH_HD float logOf<float>(float x) {
  return logf(x);
}

// On the GPU, bf16 rows (what autocast hands over) are read eight values at a time, in
// one 16-byte load where there were eight 2-byte ones; a warp's threads mostly read the
// same row. Rows of a multiple of 8 values, 16-byte aligned (lsh_fused.cpp sees to it).
// (fp32 rows read so pushed the fp32 dk/dv pass into local memory: 2.8 KB of spills.)
template <int D, typename T, typename Acc>
CW_LSH_HD constexpr bool readsEight() {
  return CW_LSH_USE_VECTOR_ROWS && D % 8 == 0 && std::is_same_v<T, Bf16> && std::is_same_v<Acc, float>;
}

CW_LSH_HD void loadEight(const Bf16* row, float (&x)[8]) {
  uint32_t words[4];
#if defined(__CUDA_ARCH__)
  const uint4 raw = *reinterpret_cast<const uint4*>(row);
  words[0] = raw.x, words[1] = raw.y, words[2] = raw.z, words[3] = raw.w;
#else
  __builtin_memcpy(words, row, sizeof words);
#endif
  for (int j = 0; j < 4; ++j) {  // little-endian: value 2j is the word's low half
    x[2 * j] = floatOfBits(words[j] << 16);
    x[2 * j + 1] = floatOfBits(words[j] & 0xffff0000u);
  }
}

// Σ a·b over D values, in up to eight partial sums (one AVX2 register on the CPU).
template <int D, typename Acc, typename T>
CW_LSH_HD Acc dotRow(const Acc* a, const T* b) {
  constexpr int kLanes = D < 8 ? D : 8;
  Acc lane[kLanes];
  for (int l = 0; l < kLanes; ++l) lane[l] = 0;
  if constexpr (readsEight<D, T, Acc>()) {
    CW_LSH_UNROLL
    for (int i = 0; i < D; i += 8) {
      float x[8];
      loadEight(b + i, x);
      for (int l = 0; l < 8; ++l) lane[l] += a[i + l] * x[l];
    }
  } else {
    for (int i = 0; i < D; i += kLanes)
      for (int l = 0; l < kLanes; ++l) lane[l] += a[i + l] * static_cast<Acc>(b[i + l]);
  }
  Acc sum = 0;
  for (int l = 0; l < kLanes; ++l) sum += lane[l];
  return sum;
}

// to += w · row, over D values (restrict: the CPU build vectorises it only so).
template <int D, typename Acc, typename T>
CW_LSH_HD void addScaledRow(Acc* __restrict__ to, Acc w, const T* __restrict__ row) {
  if constexpr (readsEight<D, T, Acc>()) {
    CW_LSH_UNROLL
    for (int i = 0; i < D; i += 8) {
      float x[8];
      loadEight(row + i, x);
      for (int l = 0; l < 8; ++l) to[i + l] += w * x[l];
    }
  } else {
    for (int i = 0; i < D; ++i) to[i] += w * static_cast<Acc>(row[i]);
  }
}

template <int D, typename Acc, typename T>
CW_LSH_HD void loadRow(Acc* to, const T* from) {
  if constexpr (readsEight<D, T, Acc>()) {
    CW_LSH_UNROLL
    for (int i = 0; i < D; i += 8) {
      float x[8];
      loadEight(from + i, x);
      for (int l = 0; l < 8; ++l) to[i + l] = x[l];
    }
  } else {
    for (int i = 0; i < D; ++i) to[i] = static_cast<Acc>(from[i]);
  }
}

// What a slot's loop needs of its own slot, worked out once (integer divisions are slow):
// the first slots of its own chunk and of the other chunk it pairs with, the one before it
// for a query (its look-back) or the one after it for a key (whose queries look back to
// it); and with rounds deduplicated, per round the two chunks in which the other side of a
// pair meets it.
struct Pairing {
  int32_t own, other;
  int32_t meetA[kMaxRounds], meetB[kMaxRounds];
  const int32_t* chunkOf;  // this row's [L, R], or null
  const uint8_t* padding;  // this row's [L], or null
};

template <typename T, typename Acc>
CW_LSH_HD void pairingOf(const Problem<T, Acc>& p, int32_t row, int32_t s, int32_t position, int32_t step,
                         Pairing& g) {
  const int32_t roundStart = (s / p.length) * p.length, chunks = p.length / p.bucket;
  const int32_t chunk = (s - roundStart) / p.bucket;
  g.own = roundStart + chunk * p.bucket;
  g.other = roundStart + ((chunk + chunks + step) % chunks) * p.bucket;
  g.padding = p.padding ? p.padding + static_cast<int64_t>(row) * p.length : nullptr;
  g.chunkOf = p.chunkOf ? p.chunkOf + static_cast<int64_t>(row) * p.length * p.rounds : nullptr;
  if (!g.chunkOf) return;
  // A key meets a query in a round when it lies in the query's chunk or the one before.
  const int32_t* mine = g.chunkOf + static_cast<int64_t>(position) * p.rounds;
  for (int32_t r = 0; r < p.rounds; ++r) {
    g.meetA[r] = mine[r];
    g.meetB[r] = (mine[r] + chunks + step) % chunks;
  }
}

// Slot `w` (0 ≤ w < 2·bucket) of the pairing: the own chunk's, then the other chunk's.
CW_LSH_HD int32_t pairedSlot(const Pairing& g, int32_t bucket, int32_t w) {
  return w < bucket ? g.own + w : g.other + (w - bucket);
}

// The score of a pair, given q·k: `self` when the query is the key's own slot (a constant
// score, as is a padding key's); with rounds deduplicated, lowered by log(rounds the pair
// meets in), `otherPosition` being the position of the pair's other side.
template <typename T, typename Acc>
CW_LSH_HD Acc pairScore(const Problem<T, Acc>& p, const Pairing& g, bool self, int32_t keyPosition,
                        int32_t otherPosition, Acc dot) {
  if (self) return p.selfScore;
  if (g.padding && g.padding[keyPosition]) return p.paddingScore;
  Acc score = dot * p.scale;
  if (g.chunkOf) {
    const int32_t* theirs = g.chunkOf + static_cast<int64_t>(otherPosition) * p.rounds;
    int32_t met = 0;
    for (int32_t r = 0; r < p.rounds; ++r) met += (theirs[r] == g.meetA[r] || theirs[r] == g.meetB[r]) ? 1 : 0;
    if (met > 1) score -= p.logOfCount[met];  // every pair meets in its own round
  }
  return score;
}

CW_LSH_HD bool constantPair(const Pairing& g, bool self, int32_t keyPosition) {
  return self || (g.padding && g.padding[keyPosition]);
}

template <typename T, typename Acc>
CW_LSH_HD int64_t rowOffset(const Problem<T, Acc>& p, int32_t row, int32_t position) {
  return static_cast<int64_t>(row) * p.length + position;
}
// Offset of (row, round of slot s, position) in the per-round [N, R, L] arrays.
template <typename T, typename Acc>
CW_LSH_HD int64_t roundOffset(const Problem<T, Acc>& p, int32_t row, int32_t s, int32_t position) {
  return (static_cast<int64_t>(row) * p.rounds + s / p.length) * p.length + position;
}

// A slot's view of its row: the row's sorted positions and q, k, v rows, the slot's
// position, and its pairing (step −1 for a query, +1 for a key).
template <typename T>
struct SlotRow {
  const int32_t* slotPos;
  const T *q, *k, *v;
  int32_t position;
  Pairing pairing;
};

template <int D, typename T, typename Acc>
CW_LSH_HD void slotRowOf(const Problem<T, Acc>& p, int32_t row, int32_t s, int32_t step, SlotRow<T>& r) {
  const int64_t start = rowOffset(p, row, 0) * D;
  r.slotPos = p.slotPos + static_cast<int64_t>(row) * p.rounds * p.length;
  r.q = p.q + start, r.k = p.k + start, r.v = p.v + start;
  r.position = r.slotPos[s];
  pairingOf(p, row, s, r.position, step, r.pairing);
}

// Forward of query slot s of `row`: softmax over its window in one pass, blocks of keys at
// a time (their scores are independent of each other; the running maximum rescales the
// partial sums once per block), written to roundOut and roundLse.
template <int D, typename T, typename Acc>
CW_LSH_HD void forwardSlot(const Problem<T, Acc>& p, int32_t row, int32_t s) {
  SlotRow<T> r;
  slotRowOf<D>(p, row, s, -1, r);
  const int32_t qp = r.position;
  const Pairing& g = r.pairing;
  Acc q[D], out[D];
  loadRow<D>(q, r.q + static_cast<int64_t>(qp) * D);
  for (int i = 0; i < D; ++i) out[i] = 0;
  Acc maxScore = -INFINITY, sum = 0;
  for (int32_t first = 0; first < 2 * p.bucket; first += kKeyBlock) {  // 2·bucket: a multiple of kKeyBlock
    Acc weight[kKeyBlock];
    int32_t keyPos[kKeyBlock];
    Acc blockMax = -INFINITY;
    for (int32_t j = 0; j < kKeyBlock; ++j) {
      const int32_t ks = pairedSlot(g, p.bucket, first + j);
      keyPos[j] = r.slotPos[ks];
      weight[j] = pairScore(p, g, ks == s, keyPos[j], keyPos[j], dotRow<D>(q, r.k + static_cast<int64_t>(keyPos[j]) * D));
      blockMax = weight[j] > blockMax ? weight[j] : blockMax;
    }
    if (blockMax > maxScore) {
      const Acc rescale = expOf(maxScore - blockMax);
      sum *= rescale;
      for (int i = 0; i < D; ++i) out[i] *= rescale;
      maxScore = blockMax;
    }
    CW_FUSED_SUM_LOOP(sum)  // one vector expf for the block where libmvec has it
    for (int32_t j = 0; j < kKeyBlock; ++j) {
      weight[j] = expOf(weight[j] - maxScore);
      sum += weight[j];
    }
    for (int32_t j = 0; j < kKeyBlock; ++j) addScaledRow<D>(out, weight[j], r.v + static_cast<int64_t>(keyPos[j]) * D);
  }
  const int64_t at = roundOffset(p, row, s, qp);
  for (int i = 0; i < D; ++i) p.roundOut[at * D + i] = out[i] / sum;
  p.roundLse[at] = maxScore + logOf(sum);
}

// With P the probabilities against the combined log-sum-exp of the query's position:
// dScore = P ∘ (dOut·v − delta). Query slot s's share of dq (its round's).
template <int D, typename T, typename Acc>
CW_LSH_HD void queryGradientSlot(const Problem<T, Acc>& p, int32_t row, int32_t s) {
  SlotRow<T> r;
  slotRowOf<D>(p, row, s, -1, r);
  const int32_t qp = r.position;
  const Pairing& g = r.pairing;
  Acc q[D], dOut[D], dq[D];
  loadRow<D>(q, r.q + static_cast<int64_t>(qp) * D);
  loadRow<D>(dOut, p.dOut + rowOffset(p, row, qp) * D);
  for (int i = 0; i < D; ++i) dq[i] = 0;
  const Acc lse = p.lse[rowOffset(p, row, qp)], delta = p.delta[rowOffset(p, row, qp)];
  for (int32_t w = 0; w < 2 * p.bucket; ++w) {
    const int32_t ks = pairedSlot(g, p.bucket, w), kp = r.slotPos[ks];
    if (constantPair(g, ks == s, kp)) continue;
    const T* kk = r.k + static_cast<int64_t>(kp) * D;
    const Acc prob = expOf(pairScore(p, g, false, kp, kp, dotRow<D>(q, kk)) - lse);
    const Acc dScore = prob * (dotRow<D>(dOut, r.v + static_cast<int64_t>(kp) * D) - delta) * p.scale;
    addScaledRow<D>(dq, dScore, kk);
  }
  const int64_t at = roundOffset(p, row, s, qp) * D;
  for (int i = 0; i < D; ++i) p.dq[at + i] = dq[i];
}

// Key slot s's share of dk and dv (its round's), from every query whose window holds it.
template <int D, typename T, typename Acc>
CW_LSH_HD void keyGradientSlot(const Problem<T, Acc>& p, int32_t row, int32_t s) {
  SlotRow<T> r;
  slotRowOf<D>(p, row, s, +1, r);
  const int32_t kp = r.position;
  const Pairing& g = r.pairing;
  // The key's value row stays in memory (cached): four rows of registers would not fit a
  // GPU thread at D = 64.
  const T* v = r.v + static_cast<int64_t>(kp) * D;
  Acc k[D], dk[D], dv[D];
  loadRow<D>(k, r.k + static_cast<int64_t>(kp) * D);
  for (int i = 0; i < D; ++i) dk[i] = dv[i] = 0;
  for (int32_t w = 0; w < 2 * p.bucket; ++w) {
    const int32_t qs = pairedSlot(g, p.bucket, w), qp = r.slotPos[qs];
    const T* qq = r.q + static_cast<int64_t>(qp) * D;
    const Acc* dOut = p.dOut + rowOffset(p, row, qp) * D;
    const Acc prob = expOf(pairScore(p, g, qs == s, kp, qp, dotRow<D>(k, qq)) - p.lse[rowOffset(p, row, qp)]);
    addScaledRow<D>(dv, prob, dOut);
    if (constantPair(g, qs == s, kp)) continue;
    const Acc dScore = prob * (dotRow<D>(dOut, v) - p.delta[rowOffset(p, row, qp)]) * p.scale;
    addScaledRow<D>(dk, dScore, qq);
  }
  const int64_t at = roundOffset(p, row, s, kp) * D;
  for (int i = 0; i < D; ++i) {
    p.dk[at + i] = dk[i];
    p.dv[at + i] = dv[i];
  }
}

// The rounds combined at position `position` of `row`, by their log-sum-exp: that of the
// rounds' log-sum-exps (a softmax over the union of the windows), and each round's weight
// exp(lse_r − lse), its share of the mass.
template <typename T, typename Acc>
CW_LSH_HD Acc combinedLse(const Problem<T, Acc>& p, int32_t row, int32_t position) {
  const Acc* lse = p.roundLse + static_cast<int64_t>(row) * p.rounds * p.length + position;
  Acc top = lse[0];
  for (int32_t r = 1; r < p.rounds; ++r) top = lse[static_cast<int64_t>(r) * p.length] > top ? lse[static_cast<int64_t>(r) * p.length] : top;
  Acc sum = 0;
  for (int32_t r = 0; r < p.rounds; ++r) sum += expOf(lse[static_cast<int64_t>(r) * p.length] - top);
  return top + logOf(sum);
}
template <typename T, typename Acc>
CW_LSH_HD Acc roundWeight(const Problem<T, Acc>& p, int32_t row, int32_t round, int32_t position, Acc lse) {
  return expOf(p.roundLse[(static_cast<int64_t>(row) * p.rounds + round) * p.length + position] - lse);
}
// Element c of the combined output at (row, position), head width d, its weights taken on
// the spot (the CUDA kernel's thread per element; the CPU loop takes them once per position).
template <typename T, typename Acc>
CW_LSH_HD Acc combinedValue(const Problem<T, Acc>& p, int64_t d, int32_t row, int32_t position, int64_t c, Acc lse) {
  Acc value = 0;
  for (int32_t r = 0; r < p.rounds; ++r)
    value += p.roundOut[((static_cast<int64_t>(row) * p.rounds + r) * p.length + position) * d + c] *
             roundWeight(p, row, r, position, lse);
  return value;
}

}  // namespace CW_LSH_ISA

// The head widths the slot code is compiled for (its per-thread rows are fixed arrays).
CW_LSH_HD constexpr bool headWidthCompiled(int64_t d) {
  return d == 4 || d == 8 || d == 16 || d == 32 || d == 64 || d == 128;
}

enum class Pass { Forward, QueryGradients, KeyGradients };

// Runs `pass` for the slots of chunks [beginChunk, endChunk) of `p` (head width `d`), on
// this thread; lsh_fused_cpu.cpp, built for the baseline x86-64 and for AVX2 with FMA.
namespace cpu_baseline {
template <typename T, typename Acc>
void runChunks(const Problem<T, Acc>& p, int64_t d, Pass pass, int64_t beginChunk, int64_t endChunk);
}
namespace cpu_avx2 {
template <typename T, typename Acc>
void runChunks(const Problem<T, Acc>& p, int64_t d, Pass pass, int64_t beginChunk, int64_t endChunk);
}

// Runs `pass` for every slot of `p` (head width `d`) on the CUDA stream `stream` (a
// cudaStream_t), asynchronously; cuda/lsh_fused.cu, built where LibTorch has CUDA.
// Returns null, or the CUDA error's text.
template <typename T, typename Acc>
const char* runOnCuda(const Problem<T, Acc>& p, int64_t d, Pass pass, void* stream);

// Combines the rounds of roundOut and roundLse into out [N, L, d] and lse [N, L] (combinedLse,
// combinedValue) on the CUDA stream `stream`, one thread per element; cuda/lsh_fused.cu.
template <typename T, typename Acc>
const char* combineOnCuda(const Problem<T, Acc>& p, int64_t d, Acc* out, Acc* lse, void* stream);

}  // namespace cw::plugins::lsh::fused
