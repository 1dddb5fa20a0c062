#include "lsh_fused.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <type_traits>

#include "cellwright/compute/compat.h"
#include "cellwright/core/errors.h"
#include "cellwright/core/parallel.h"
#include "fused_dispatch.h"
#include "lsh_fused_math.h"
#include "lsh_tile_math.h"

#if CELLWRIGHT_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace cw::plugins::lsh {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The type the kernels read: bf16 as it comes (autocast), double for checks, else fp32.
torch::ScalarType kernelInputType(torch::ScalarType t) {
  return t == torch::kDouble || t == torch::kBFloat16 ? t : torch::kFloat;
}
torch::ScalarType accumulatorType(torch::ScalarType t) { return t == torch::kDouble ? torch::kDouble : torch::kFloat; }

template <typename T, typename Acc>
void runOnCpu(const fused::Problem<T, Acc>& p, int64_t d, fused::Pass pass) {
  [[maybe_unused]] const bool avx2 = cw::plugins::fused::avx2LoopsTaken();  // (no AVX2 build off x86-64)
  const int64_t chunks = static_cast<int64_t>(p.rows) * p.rounds * p.length / p.bucket;
  // Whole chunks at a time (their queries share the keys just read), handed out to the
  // user's thread count. Not at::parallel_for: with Debian's LibTorch its OpenMP loop is
  // inline and runs serially in code built without -fopenmp.
  cw::parallel::dynamicChunks(
      chunks, at::get_num_threads(), 16,
      [&](int64_t begin, int64_t end) {
#if CELLWRIGHT_FUSED_AVX2
        if (avx2) return fused::cpu_avx2::runChunks(p, d, pass, begin, end);
#endif
        fused::cpu_baseline::runChunks(p, d, pass, begin, end);
      },
      [](int64_t) {});
}

template <typename T, typename Acc>
void run(const fused::Problem<T, Acc>& p, int64_t d, fused::Pass pass, const torch::Device& device) {
  if (!fused::headWidthCompiled(d))
    throw cw::Error("fused LSH attention: head width " + std::to_string(d) + " is not compiled");
  if (!device.is_cuda()) return runOnCpu(p, d, pass);
#if CELLWRIGHT_CUDA_KERNELS
  if constexpr (std::is_same_v<Acc, double>) {
    throw cw::Error("fused LSH attention: no double-precision CUDA kernels");
  } else {
    const c10::cuda::CUDAGuard onDevice(device);  // launches go to the tensors' device
    if (const char* error = fused::runOnCuda(p, d, pass, c10::cuda::getCurrentCUDAStream(device.index()).stream()))
      throw cw::Error(std::string("fused LSH attention: CUDA error: ") + error);
  }
#else
  throw cw::Error("fused LSH attention: this build has no CUDA kernels");
#endif
}

// Combines the rounds of p.roundOut and p.roundLse into out [N, L, d] and lse [N, L] in one pass
// (combinedLse, roundWeight), where torch's ops read the per-round outputs three times.
template <typename T, typename Acc>
void combineRounds(const fused::Problem<T, Acc>& p, int64_t d, Acc* out, Acc* lse, const torch::Device& device) {
  if (device.is_cuda()) {
#if CELLWRIGHT_CUDA_KERNELS
    if constexpr (!std::is_same_v<Acc, double>) {
      const c10::cuda::CUDAGuard onDevice(device);
      if (const char* error =
              fused::combineOnCuda(p, d, out, lse, c10::cuda::getCurrentCUDAStream(device.index()).stream()))
        throw cw::Error(std::string("fused LSH attention: CUDA error: ") + error);
      return;
    }
#endif
    throw cw::Error("fused LSH attention: this build has no CUDA kernels for this input");
  }
  const int64_t positions = static_cast<int64_t>(p.rows) * p.length;
  cw::parallel::dynamicChunks(
      positions, at::get_num_threads(), 1024,
      [&](int64_t begin, int64_t end) {
        Acc weight[fused::kMaxRounds];
        for (int64_t at = begin; at < end; ++at) {
          const auto row = static_cast<int32_t>(at / p.length), position = static_cast<int32_t>(at % p.length);
          const Acc combined = fused::combinedLse(p, row, position);
          for (int32_t r = 0; r < p.rounds; ++r) weight[r] = fused::roundWeight(p, row, r, position, combined);
          Acc* to = out + at * d;
          std::fill(to, to + d, Acc(0));
          for (int32_t r = 0; r < p.rounds; ++r) {
            const Acc* from = p.roundOut + ((static_cast<int64_t>(row) * p.rounds + r) * p.length + position) * d;
            for (int64_t c = 0; c < d; ++c) to[c] += from[c] * weight[r];
          }
          lse[at] = combined;
        }
      },
      [](int64_t) {});
}

std::atomic<bool> tilesAllowed{true};
std::atomic<int64_t> tileCalls{0};

// On CUDA with bf16 input (autocast), the tile kernels (tensor cores) where they are compiled
// for the bucket and head width and the device's blocks have the shared memory; backward
// then takes dq, dk and dv in one pass. Returns whether they ran (else the slot kernels run).
template <typename T, typename Acc>
bool runTiles(const fused::Problem<T, Acc>& p, int64_t d, bool backward, const torch::Device& device) {
#if CELLWRIGHT_CUDA_KERNELS
  if constexpr (std::is_same_v<T, cw::plugins::fused::Bf16>) {
    if (!device.is_cuda() || !tilesAllowed.load()) return false;
    const c10::cuda::CUDAGuard onDevice(device);
    bool taken = false;
    if (const char* error = tile::runOnCuda(p, d, backward, c10::cuda::getCurrentCUDAStream(device.index()).stream(),
                                            taken))
      throw cw::Error(std::string("fused LSH attention (tiles): CUDA error: ") + error);
    if (taken) ++tileCalls;
    return taken;
  }
#endif
  return false;
}

// The CUDA kernels read bf16 rows in 16-byte loads: a tensor whose data does not start on
// such a boundary (a view at an odd offset) is copied.
torch::Tensor aligned(const torch::Tensor& t) {
  return reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0 ? t : t.clone();
}

template <typename Pointer>
Pointer* dataOf(const torch::Tensor& t, int64_t offset = 0) {
  return t.numel() > 0 ? reinterpret_cast<Pointer*>(t.data_ptr()) + offset : nullptr;
}

// What both passes read: q, k, v [N, L, d] of the kernel input type, the slot layout, the
// padding (uint8, or empty) and the sizes.
struct Inputs {
  torch::Tensor q, k, v, slotPos, chunkOf, padding;
  int64_t rounds, bucket;
};

// The problem's input views for rows [start, start + count).
template <typename T, typename Acc>
fused::Problem<T, Acc> problemFor(const Inputs& in, int64_t start, int64_t count) {
  const int64_t l = in.q.size(1), d = in.q.size(2);
  fused::Problem<T, Acc> p{};
  p.q = dataOf<const T>(in.q, start * l * d);
  p.k = dataOf<const T>(in.k, start * l * d);
  p.v = dataOf<const T>(in.v, start * l * d);
  p.slotPos = dataOf<const int32_t>(in.slotPos, start * in.rounds * l);
  p.chunkOf = dataOf<const int32_t>(in.chunkOf, start * l * in.rounds);
  p.padding = dataOf<const uint8_t>(in.padding, start * l);
  p.rows = static_cast<int32_t>(count);
  p.rounds = static_cast<int32_t>(in.rounds);
  p.length = static_cast<int32_t>(l);
  p.bucket = static_cast<int32_t>(in.bucket);
  p.scale = static_cast<Acc>(1.0 / std::sqrt(static_cast<double>(d)));
  p.paddingScore = static_cast<Acc>(kPaddingKeyScore);
  p.selfScore = static_cast<Acc>(kSelfAttentionScore);
  for (int m = 1; m <= fused::kMaxRounds; ++m) p.logOfCount[m] = static_cast<Acc>(std::log(m));
  return p;
}

// Rows of N are independent: the per-round buffers are filled for slices of rows whose
// [rows, R, L, d] buffer stays within the score block size.
template <typename F>
void forEachSlice(const Inputs& in, int64_t blockBytes, F&& f) {
  const int64_t n = in.q.size(0);
  const int64_t rows = rowsPerScoreBlock(in.rounds * in.q.size(1) * in.q.size(2), blockBytes);
  for (int64_t start = 0; start < n; start += rows) f(start, std::min(rows, n - start));
}

struct FusedLshFunction : public torch::autograd::Function<FusedLshFunction> {
  static tensor_list forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                             const torch::Tensor& v, const torch::Tensor& slotPos, const torch::Tensor& chunkOf,
                             const torch::Tensor& padding, int64_t rounds, int64_t bucket, int64_t blockBytes) {
    cw::compat::AutocastOff exactTypes(q.device().type());
    const Inputs in{q, k, v, slotPos, chunkOf, padding, rounds, bucket};
    const int64_t n = q.size(0), l = q.size(1), d = q.size(2);
    const auto acc = q.options().dtype(accumulatorType(q.scalar_type()));
    auto out = torch::empty({n, l, d}, acc), lse = torch::empty({n, l}, acc);
    forEachSlice(in, blockBytes, [&](int64_t start, int64_t count) {
      auto roundOut = torch::empty({count, rounds, l, d}, acc), roundLse = torch::empty({count, rounds, l}, acc);
      cw::plugins::fused::withKernelTypes(q.scalar_type(), [&](auto t, auto a) {
        auto p = problemFor<decltype(t), decltype(a)>(in, start, count);
        p.roundOut = dataOf<decltype(a)>(roundOut);
        p.roundLse = dataOf<decltype(a)>(roundLse);
        if (!runTiles(p, d, false, q.device())) run(p, d, fused::Pass::Forward, q.device());
        // The rounds' softmaxes weighted by their total mass: one softmax over all windows.
        combineRounds(p, d, dataOf<decltype(a)>(out, start * l * d), dataOf<decltype(a)>(lse, start * l), q.device());
      });
    });
    ctx->save_for_backward({q, k, v, slotPos, chunkOf, padding, out, lse});
    ctx->saved_data["rounds"] = rounds;
    ctx->saved_data["bucket"] = bucket;
    ctx->saved_data["block_bytes"] = blockBytes;
    return {out};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Inputs in{saved[0], saved[1], saved[2], saved[3], saved[4], saved[5],
                    ctx->saved_data["rounds"].toInt(), ctx->saved_data["bucket"].toInt()};
    const auto &out = saved[6], &lse = saved[7];
    cw::compat::AutocastOff exactTypes(out.device().type());
    const int64_t l = out.size(1), d = out.size(2);
    const auto dOut = grads[0].to(out.scalar_type()).contiguous();
    const auto delta = (dOut * out).sum(-1);  // rowsum(dOut ∘ out), per position
    auto dq = torch::empty_like(out), dk = torch::empty_like(out), dv = torch::empty_like(out);
    forEachSlice(in, ctx->saved_data["block_bytes"].toInt(), [&](int64_t start, int64_t count) {
      const auto perRound = std::vector<int64_t>{count, in.rounds, l, d};
      auto roundDq = torch::empty(perRound, out.options()), roundDk = torch::empty(perRound, out.options()),
           roundDv = torch::empty(perRound, out.options());
      cw::plugins::fused::withKernelTypes(in.q.scalar_type(), [&](auto t, auto a) {
        using Acc = decltype(a);
        auto p = problemFor<decltype(t), Acc>(in, start, count);
        p.dOut = dataOf<const Acc>(dOut, start * l * d);
        p.lse = dataOf<const Acc>(lse, start * l);
        p.delta = dataOf<const Acc>(delta, start * l);
        p.dq = dataOf<Acc>(roundDq);
        p.dk = dataOf<Acc>(roundDk);
        p.dv = dataOf<Acc>(roundDv);
        if (runTiles(p, d, true, out.device())) return;
        run(p, d, fused::Pass::QueryGradients, out.device());
        run(p, d, fused::Pass::KeyGradients, out.device());
      });
      for (auto [whole, rounds] : {std::pair{&dq, &roundDq}, {&dk, &roundDk}, {&dv, &roundDv}}) {
        auto slice = whole->narrow(0, start, count);
        torch::sum_out(slice, *rounds, {1});
      }
    });
    return {dq.to(in.q.scalar_type()), dk.to(in.k.scalar_type()), dv.to(in.v.scalar_type()), {}, {}, {}, {}, {}, {}};
  }
};

}  // namespace

void allowTileKernels(bool allowed) { tilesAllowed = allowed; }
bool tileKernelsAllowed() { return tilesAllowed.load(); }
int64_t tileKernelCalls() { return tileCalls.load(); }

bool fusedAttentionSupported(const torch::Tensor& qk, int64_t rounds, int64_t bucketSize) {
  if (!fused::headWidthCompiled(qk.size(-1)) || rounds > fused::kMaxRounds || (2 * bucketSize) % fused::kKeyBlock != 0)
    return false;
  if (qk.device().is_cpu()) return true;
#if CELLWRIGHT_CUDA_KERNELS
  return qk.device().is_cuda() && qk.scalar_type() != torch::kDouble;
#else
  return false;
#endif
}

torch::Tensor fusedLshAttention(const torch::Tensor& qk, const torch::Tensor& v, const torch::Tensor& keyPadding,
                                const torch::Tensor& buckets, const LshOptions& options) {
  const int64_t n = qk.size(0), l = qk.size(1), bs = options.bucketSize;
  const int64_t rounds = buckets.size(1) / l;
  if (l % (2 * bs) != 0) throw cw::Error("LSH attention needs a length that is a multiple of twice the bucket size");
  if (!fusedAttentionSupported(qk, rounds, bs)) throw cw::Error("fused LSH attention: not built for this input");
  if (rounds * l > std::numeric_limits<int32_t>::max()) throw cw::Error("fused LSH attention: too many slots per row");
  // The kernels read the mask as [N, L] bytes on qk's device.
  if (keyPadding.defined() && keyPadding.sizes() != torch::IntArrayRef{n, l})
    throw cw::Error("fused LSH attention: the key padding mask must be [cells, genes]");
  torch::Tensor slotPos, chunkOf;
  {
    torch::NoGradGuard noGrad;
    // Sorted by (bucket, position); buckets are offset by round, so round r's slots are
    // [r·L, (r+1)·L).
    auto ticker = torch::arange(rounds * l, buckets.options()).unsqueeze(0).expand({n, rounds * l});
    auto sorted = std::get<1>((l * buckets + ticker.remainder(l)).sort(-1));
    slotPos = sorted.remainder(l).to(torch::kInt).contiguous();
    if (options.dedupRounds && rounds > 1) {
      auto slotOf = torch::empty_like(sorted).scatter_(1, sorted, ticker).view({n, rounds, l});
      auto roundStart = (torch::arange(rounds, buckets.options()) * l).view({1, rounds, 1});
      chunkOf = (slotOf - roundStart).div(bs, "floor").transpose(1, 2).to(torch::kInt).contiguous();  // [N, L, R]
    } else {
      chunkOf = torch::empty({0}, slotPos.options());
    }
  }
  const auto type = kernelInputType(qk.scalar_type());
  const auto q = aligned(qk.to(type).contiguous());
  // Keys normalised in at least fp32, then read in the kernels' type.
  const auto k = torch::nn::functional::normalize(qk.to(accumulatorType(type)),
                                                  torch::nn::functional::NormalizeFuncOptions().dim(-1).p(2))
                     .to(type)
                     .contiguous();  // a new tensor: aligned
  const auto padding = keyPadding.defined() ? keyPadding.to(qk.device(), torch::kByte).contiguous()
                                            : torch::empty({0}, qk.options().dtype(torch::kByte));
  auto out = FusedLshFunction::apply(q, k, aligned(v.to(type).contiguous()), slotPos, chunkOf, padding, rounds, bs,
                                     options.scoreBlockBytes)[0];
  return out.to(v.scalar_type());
}

}  // namespace cw::plugins::lsh
