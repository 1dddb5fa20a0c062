// LSH attention's chunk step with its scores recomputed in backward, against the plain
// autograd formulation (lsh::LshOptions::recomputeScores off).
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <malloc.h>

#include "cellwright/compute/compat.h"
#include "cellwright/core/errors.h"
#include "cellwright/compute/heap_memory.h"
#include "fused_dispatch.h"
#include "lsh_attention.h"
#include "lsh_fused.h"
#include "model_test_support.h"

using namespace cw::plugins;
using cw::test::relativeError;

namespace {

struct Inputs {
  torch::Tensor qk, v, padding, buckets, upstream;
};

// n rows of length l with the last `padded` positions of row 1 padding.
Inputs makeInputs(torch::ScalarType dtype, int64_t n, int64_t l, int64_t d, int64_t rounds, int64_t bucket,
                  int64_t padded) {
  torch::manual_seed(11);
  Inputs in;
  in.qk = torch::randn({n, l, d}, dtype);
  in.v = torch::randn({n, l, d}, dtype);
  in.padding = torch::zeros({n, l}, torch::kBool);
  in.padding[1].narrow(0, l - padded, padded).fill_(true);
  auto rotations = lsh::randomRotations(d, rounds, l / bucket, at::make_generator<at::CPUGeneratorImpl>(5),
                                        torch::kCPU, torch::kFloat);
  in.buckets = lsh::hashBuckets(in.qk, rotations);
  in.upstream = torch::randn({n, l, d}, dtype);
  return in;
}

struct Run {
  torch::Tensor out, dqk, dv;
};

Run run(const Inputs& in, const lsh::LshOptions& options) {
  auto qk = in.qk.clone().requires_grad_(true), v = in.v.clone().requires_grad_(true);
  auto out = lsh::lshAttention(qk, v, in.padding, in.buckets, options);
  (out.to(in.upstream.scalar_type()) * in.upstream).sum().backward();
  return {out.detach(), qk.grad(), v.grad()};
}

lsh::LshOptions withRecompute(bool recompute, int64_t blockBytes = int64_t{256} << 20, bool dedup = false) {
  lsh::LshOptions o{8, 3, dedup};
  o.recomputeScores = recompute;
  o.scoreBlockBytes = blockBytes;
  return o;
}

// Bytes malloc has handed out and not yet taken back (heap and mapped blocks).
int64_t bytesInUse() {
  const auto info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

}  // namespace

TEST(LshChunks, RecomputedScoresGiveTheReferenceOutputAndGradients) {
  // Double precision, padding, several hash rounds, duplicate rounds counted or not; block
  // sizes from one row at a time (1 byte) to all rows at once.
  const auto in = makeInputs(torch::kDouble, 4, 64, 8, 3, 8, 20);
  for (bool dedup : {false, true}) {
    const auto reference = run(in, withRecompute(false, int64_t{1} << 30, dedup));
    for (int64_t blockBytes : {int64_t{1}, int64_t{20000}, int64_t{1} << 30}) {
      const auto recomputed = run(in, withRecompute(true, blockBytes, dedup));
      EXPECT_LT(relativeError(recomputed.out, reference.out), 1e-12) << blockBytes << " dedup " << dedup;
      EXPECT_LT(relativeError(recomputed.dqk, reference.dqk), 1e-10) << blockBytes << " dedup " << dedup;
      EXPECT_LT(relativeError(recomputed.dv, reference.dv), 1e-10) << blockBytes << " dedup " << dedup;
    }
  }
  // Counting duplicates once changes the result (the inputs make rounds meet).
  EXPECT_GT(relativeError(run(in, withRecompute(true, 1, true)).out, run(in, withRecompute(true, 1, false)).out), 1e-3);
}

TEST(LshChunks, PaddingQueriesAloneWithPaddingGetTheReferenceGradients) {
  // Row 1 is all padding but its first 3 positions, so whole chunks hold only padding and
  // their queries attend to themselves alone: the self score is a constant there too.
  const auto in = makeInputs(torch::kDouble, 2, 32, 4, 2, 4, 29);
  const auto reference = run(in, withRecompute(false));
  const auto recomputed = run(in, withRecompute(true));
  EXPECT_LT(relativeError(recomputed.out, reference.out), 1e-12);
  EXPECT_LT(relativeError(recomputed.dqk, reference.dqk), 1e-10);
  EXPECT_LT(relativeError(recomputed.dv, reference.dv), 1e-10);
}

TEST(LshChunks, AgreesWithTheReferenceUnderBf16Autocast) {
  // Both run their matmuls in bf16 and their softmax in fp32.
  const auto in = makeInputs(torch::kFloat, 4, 128, 16, 4, 16, 40);
  auto under = [&](bool recompute) {
    cw::compat::AutocastGuard bf16(torch::kCPU, torch::kBFloat16, true);
    return run(in, withRecompute(recompute, int64_t{256} << 20, true));
  };
  const auto reference = under(false), recomputed = under(true);
  EXPECT_EQ(recomputed.out.scalar_type(), reference.out.scalar_type());
  EXPECT_LT(relativeError(recomputed.out, reference.out), 1e-2);
  EXPECT_LT(relativeError(recomputed.dqk, reference.dqk), 3e-2);
  EXPECT_LT(relativeError(recomputed.dv, reference.dv), 3e-2);
  const auto fp32 = run(in, withRecompute(false, int64_t{256} << 20, true));
  EXPECT_GT(relativeError(recomputed.out, fp32.out), 1e-4) << "the autocast run must really run in bf16";
}

TEST(LshChunks, WithoutAutogradRowSlicesGiveTheSameOutputAndAttentionMass) {
  const auto in = makeInputs(torch::kDouble, 5, 64, 8, 3, 8, 20);
  torch::NoGradGuard noGrad;
  for (bool recompute : {false, true}) {
    auto whole = lsh::lshAttention(in.qk, in.v, in.padding, in.buckets, withRecompute(recompute, int64_t{1} << 30, true));
    auto sliced = lsh::lshAttention(in.qk, in.v, in.padding, in.buckets, withRecompute(recompute, 1, true));
    EXPECT_LT(relativeError(sliced, whole), 1e-13) << recompute;
  }
  torch::Tensor massWhole, massSliced;
  lsh::lshAttention(in.qk, in.v, in.padding, in.buckets, withRecompute(true), &massWhole);
  lsh::lshAttention(in.qk, in.v, in.padding, in.buckets, withRecompute(true, 1), &massSliced);
  EXPECT_LT(relativeError(massSliced, massWhole), 1e-13);
  // Every real query spreads a mass of 1 over the keys (the padded row has 44 real ones).
  EXPECT_NEAR(massSliced.sum().item<double>(), 64 * 4 + 44, 1e-9);
}

// Row slices without autograd write into one output: the heap grows by about that output,
// not by the slices' outputs and then their concatenation (at 16,907 genes, batch 32 and 10
// heads, 1.4 GB each per layer). In a heap-memory scope the heap never shrinks, so its
// growth is the call's peak.
TEST(LshChunks, WithoutAutogradRowSlicesWriteIntoOneOutput) {
  const auto in = makeInputs(torch::kFloat, 32, 1024, 64, 3, 32, 0);
  const auto small = makeInputs(torch::kFloat, 2, 1024, 64, 3, 32, 0);
  const double outputBytes = 32.0 * 1024 * 64 * sizeof(float);  // 8 MiB; one row's scores: 768 KiB
  torch::NoGradGuard noGrad;
  cw::HeapMemoryScope scope;
  lsh::LshOptions options{32, 3, true};
  options.scoreBlockBytes = 1;  // 32 slices of one row
  lsh::lshAttention(small.qk, small.v, small.padding, small.buckets, options);  // first calls set up buffers
  const auto before = static_cast<double>(mallinfo2().arena);
  lsh::lshAttention(in.qk, in.v, in.padding, in.buckets, options);
  EXPECT_LT(static_cast<double>(mallinfo2().arena) - before, 1.5 * outputBytes);
}

TEST(LshChunks, GraphKeepsNoScoreSizedTensors) {
  // Scores and probabilities of one call: 4 rows × 3 rounds × 1024 queries × 64 keys, 8
  // bytes each = 6 MiB apiece; with 2-wide heads everything else is far smaller. The plain
  // formulation keeps two such tensors for backward; the recomputing one keeps inputs,
  // output and log-sum-exp only.
  const auto in = makeInputs(torch::kDouble, 4, 1024, 2, 3, 32, 100);
  const int64_t scoreBytes = 4 * 3 * 1024 * 64 * 8;
  auto retained = [&](bool recompute, bool fusedLoops = false) {
    auto qk = in.qk.clone().requires_grad_(true), v = in.v.clone().requires_grad_(true);
    const int64_t before = bytesInUse();
    lsh::LshOptions options{32, 3, true};
    options.recomputeScores = recompute;
    options.fusedKernels = fusedLoops;
    auto out = lsh::lshAttention(qk, v, in.padding, in.buckets, options);
    return bytesInUse() - before;  // `out` and its graph still alive
  };
  const int64_t plain = retained(false), recomputed = retained(true), fusedLoops = retained(true, true);
  std::cout << "bytes kept for backward: plain " << plain << ", recomputed " << recomputed << ", fused " << fusedLoops
            << " (one score tensor " << scoreBytes << ")\n";
  EXPECT_GT(plain, 2 * scoreBytes);  // the measurement sees the score tensors
  EXPECT_LT(recomputed, scoreBytes / 2);
  EXPECT_LT(fusedLoops, scoreBytes / 2);
}

TEST(LshChunks, TokenAloneInOneRoundOnlyGetsTheReferenceGradients) {
  // Hand-made buckets: two real tokens (positions 0 and 1) among padding, 16 positions,
  // chunks of 4. Round 0 puts all in bucket 0, so the two share a chunk; round 1 sorts them
  // into chunks 0 and 2, which do not see each other, so each is alone with padding and
  // attends to itself. The self score is a constant in the plain formulation; the
  // recomputing backward leaves it unmasked, which must change nothing.
  torch::manual_seed(12);
  auto qk = torch::randn({1, 16, 4}, torch::kDouble), v = torch::randn({1, 16, 4}, torch::kDouble);
  auto padding = torch::ones({1, 16}, torch::kBool);
  padding[0].narrow(0, 0, 2).fill_(false);
  auto roundOne = torch::full({16}, 3, torch::kLong);  // positions 9..15 last
  roundOne[0] = 0;
  roundOne.narrow(0, 2, 7).fill_(1);
  roundOne[1] = 2;
  auto buckets = torch::cat({torch::zeros({16}, torch::kLong), roundOne + 4}).unsqueeze(0);
  const Inputs in{qk, v, padding, buckets, torch::randn({1, 16, 4}, torch::kDouble)};
  for (bool dedup : {false, true}) {
    lsh::LshOptions plain{4, 2, dedup}, recompute{4, 2, dedup};
    plain.recomputeScores = false;
    auto fusedLoops = recompute;
    fusedLoops.fusedKernels = true;
    const auto reference = run(in, plain);
    for (const auto& options : {recompute, fusedLoops}) {
      const auto checked = run(in, options);
      EXPECT_LT(relativeError(checked.out, reference.out), 1e-12) << dedup << options.fusedKernels;
      EXPECT_LT(relativeError(checked.dqk, reference.dqk), 1e-10) << dedup << options.fusedKernels;
      EXPECT_LT(relativeError(checked.dv, reference.dv), 1e-10) << dedup << options.fusedKernels;
    }
  }
}

// ---- The fused loops (lsh_fused.h), against the plain autograd formulation.

namespace {

lsh::LshOptions fusedOptions(int64_t bucket, int64_t rounds, bool dedup, int64_t blockBytes = lsh::kScoreBlockBytes) {
  lsh::LshOptions o{bucket, rounds, dedup};
  o.fusedKernels = true;
  o.scoreBlockBytes = blockBytes;
  return o;
}

}  // namespace

TEST(LshFused, GivesTheReferenceOutputAndGradients) {
  // Slices of one row at a time (1 byte) and all rows at once; duplicate rounds counted
  // once or not.
  const auto in = makeInputs(torch::kDouble, 4, 64, 8, 3, 8, 20);
  ASSERT_TRUE(lsh::fusedAttentionSupported(in.qk, 3, 8));
  EXPECT_FALSE(lsh::fusedAttentionSupported(in.qk, 17, 8));
  EXPECT_FALSE(lsh::fusedAttentionSupported(in.qk, 3, 6));
  for (bool dedup : {false, true}) {
    const auto reference = run(in, withRecompute(false, int64_t{1} << 30, dedup));
    for (int64_t blockBytes : {int64_t{1}, int64_t{1} << 30}) {
      const auto fusedRun = run(in, fusedOptions(8, 3, dedup, blockBytes));
      EXPECT_LT(relativeError(fusedRun.out, reference.out), 1e-12) << blockBytes << " dedup " << dedup;
      EXPECT_LT(relativeError(fusedRun.dqk, reference.dqk), 1e-10) << blockBytes << " dedup " << dedup;
      EXPECT_LT(relativeError(fusedRun.dv, reference.dv), 1e-10) << blockBytes << " dedup " << dedup;
    }
  }
}

TEST(LshFused, BaselineAndAvx2LoopsAgree) {
  // The same slot code built for x86-64 and for AVX2 with FMA (where this processor has
  // it): fp32 sums in other orders and with fused multiply-adds, nothing more.
  const auto in = makeInputs(torch::kFloat, 4, 128, 64, 4, 16, 40);
  const auto best = run(in, fusedOptions(8, 4, true));
  cw::plugins::fused::allowAvx2Loops(false);
  const auto baseline = run(in, fusedOptions(8, 4, true));
  cw::plugins::fused::allowAvx2Loops(true);
  const auto reference = run(in, withRecompute(false, int64_t{1} << 30, true));
  for (const auto* r : {&best, &baseline}) {
    EXPECT_LT(relativeError(r->out, reference.out), 1e-5);
    EXPECT_LT(relativeError(r->dqk, reference.dqk), 1e-5);
    EXPECT_LT(relativeError(r->dv, reference.dv), 1e-5);
  }
  EXPECT_LT(relativeError(best.out, baseline.out), 1e-5);
}

TEST(LshFused, PaddingAndTokensAloneGetTheReferenceResults) {
  // Whole chunks of padding whose queries attend to themselves alone (row 1).
  const auto in = makeInputs(torch::kDouble, 2, 32, 4, 2, 4, 29);
  for (bool dedup : {false, true}) {
    const auto reference = run(in, withRecompute(false, int64_t{1} << 30, dedup));
    const auto fusedRun = run(in, fusedOptions(8, 2, dedup));
    EXPECT_LT(relativeError(fusedRun.out, reference.out), 1e-12) << dedup;
    EXPECT_LT(relativeError(fusedRun.dqk, reference.dqk), 1e-10) << dedup;
    EXPECT_LT(relativeError(fusedRun.dv, reference.dv), 1e-10) << dedup;
  }
}

TEST(LshFused, ReadsBf16InputsAndSumsInFp32) {
  // The bf16 inputs autocast hands over on CUDA, read as such (the kernels' Bf16 type):
  // against fp32 on the same rounded values, only the keys' rounding to bf16 differs.
  const auto in = makeInputs(torch::kFloat, 4, 128, 16, 4, 16, 40);
  Inputs rounded = in;
  rounded.qk = in.qk.to(torch::kBFloat16);
  rounded.v = in.v.to(torch::kBFloat16);
  const auto bf16 = run(rounded, fusedOptions(8, 4, true));
  EXPECT_EQ(bf16.out.scalar_type(), torch::kBFloat16);
  Inputs widened = rounded;
  widened.qk = rounded.qk.to(torch::kFloat);
  widened.v = rounded.v.to(torch::kFloat);
  const auto reference = run(widened, withRecompute(false, int64_t{1} << 30, true));
  EXPECT_LT(relativeError(bf16.out.to(torch::kFloat), reference.out), 1e-2);
  EXPECT_LT(relativeError(bf16.dqk.to(torch::kFloat), reference.dqk), 3e-2);
  EXPECT_LT(relativeError(bf16.dv.to(torch::kFloat), reference.dv), 1e-2);
}

TEST(LshFused, OtherHeadWidthsTakeTheTorchFormulation) {
  const auto in = makeInputs(torch::kDouble, 2, 32, 6, 2, 8, 3);
  EXPECT_FALSE(lsh::fusedAttentionSupported(in.qk, 2, 8));
  const auto reference = run(in, withRecompute(false));
  EXPECT_LT(relativeError(run(in, fusedOptions(8, 2, false)).out, reference.out), 1e-12);
}

TEST(LshFused, RefusesAPaddingMaskOfAnotherShape) {
  // The kernels read the mask as [cells, genes] bytes: a mask of another shape would be read
  // wrongly (a transposed one, with as many elements, silently), so it is refused.
  const auto in = makeInputs(torch::kDouble, 2, 32, 8, 2, 8, 5);
  Inputs transposed = in;
  transposed.padding = in.padding.t().contiguous();
  EXPECT_THROW(run(transposed, fusedOptions(8, 2, true)), cw::Error);
  Inputs bytes = in;  // the same mask as bytes: the same result as bools
  bytes.padding = in.padding.to(torch::kByte);
  EXPECT_TRUE(torch::equal(run(bytes, fusedOptions(8, 2, true)).out, run(in, fusedOptions(8, 2, true)).out));
}
