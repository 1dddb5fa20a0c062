#include "fused_block.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

#include "cellwright/core/errors.h"
#include "cellwright/core/parallel.h"
#include "fused_block_math.h"
#include "fused_dispatch.h"

#if CELLWRIGHT_CUDA_KERNELS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "fused_block_kernels.h"
#endif

namespace cw::plugins::fused {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

bool onSupportedDevice(const torch::Tensor& t) {
#if CELLWRIGHT_CUDA_KERNELS
  if (t.is_cuda()) return t.scalar_type() != torch::kDouble;  // no double kernels
#endif
  return t.is_cpu();
}

bool floatingKind(torch::ScalarType t) { return t == torch::kFloat || t == torch::kDouble; }

template <typename Acc>
Dropout<Acc> dropoutOf(double p, uint64_t seed) {
  Dropout<Acc> d;
  if (p <= 0) return d;
  d.seed = seed;
  d.dropThreshold = static_cast<uint32_t>(std::min(4294967295.0, std::round(p * 4294967296.0)));
  d.keepScale = static_cast<Acc>(1.0 / (1.0 - p));
  return d;
}

// Seeds travel through the autograd context as int64 bits.
int64_t seedBits(uint64_t seed) {
  int64_t bits;
  std::memcpy(&bits, &seed, sizeof bits);
  return bits;
}
uint64_t seedOf(int64_t bits) {
  uint64_t seed;
  std::memcpy(&seed, &bits, sizeof seed);
  return seed;
}

// Threads for `work` values on the CPU: the user's count, with 256k values each at least
// (a thread started for less costs more than it saves, more so beside BLAS threads that
// spin after their GEMM).
int cpuThreads(int64_t work) {
  return static_cast<int>(std::clamp<int64_t>(work / 262144, 1, std::max(1, at::get_num_threads())));
}

[[noreturn]] void noKernels() { throw cw::Error("fused transformer block: this build has no CUDA kernels"); }

#if CELLWRIGHT_CUDA_KERNELS
void check(const char* error) {
  if (error) throw cw::Error(std::string("fused transformer block: CUDA error: ") + error);
}

// Launches go to the tensor's device (a data-parallel rank's, say), on torch's stream there.
void* streamOf(const torch::Tensor& t) { return c10::cuda::getCurrentCUDAStream(t.device().index()).stream(); }
#endif

// ---- GELU + dropout ----

template <typename T, typename Acc>
void runGeluDropout(const GeluDropoutProblem<T, Acc>& p, bool backward, const torch::Tensor& on) {
  if (on.is_cuda()) {
#if CELLWRIGHT_CUDA_KERNELS
    if constexpr (std::is_same_v<Acc, float>) {
      const c10::cuda::CUDAGuard onDevice(on.device());
      return check(geluDropoutOnCuda(p, backward, streamOf(on)));
    }
#endif
    noKernels();
  }
  [[maybe_unused]] const bool avx2 = avx2LoopsTaken();  // (no AVX2 build off x86-64)
  cw::parallel::parallelChunks(p.count, cpuThreads(p.count), [&](int64_t begin, int64_t end, int) {
#if CELLWRIGHT_FUSED_AVX2
    if (avx2) return cpu_avx2::geluDropoutRange(p, backward, begin, end);
#endif
    cpu_baseline::geluDropoutRange(p, backward, begin, end);
  });
}

// h, y, dy, dh as the problem's pointers (dy, dh undefined in forward).
void geluDropoutPass(const torch::Tensor& h, const torch::Tensor& y, const torch::Tensor& dy, const torch::Tensor& dh,
                     double p, uint64_t seed) {
  const bool backward = dh.defined();
  withKernelTypes(h.scalar_type(), [&](auto t, auto acc) {
    using T = decltype(t);
    using Acc = decltype(acc);
    GeluDropoutProblem<T, Acc> problem{};
    problem.h = reinterpret_cast<const T*>(h.data_ptr());
    if (backward) {
      problem.dy = reinterpret_cast<const T*>(dy.data_ptr());
      problem.dh = reinterpret_cast<T*>(dh.data_ptr());
    } else {
      problem.y = reinterpret_cast<T*>(y.data_ptr());
    }
    problem.count = h.numel();
    problem.dropout = dropoutOf<Acc>(p, seed);
    runGeluDropout(problem, backward, h);
  });
}

struct GeluDropoutFunction : public torch::autograd::Function<GeluDropoutFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& h, double p) {
    auto input = h.contiguous();
    const uint64_t seed = p > 0 ? drawDropoutSeed() : 0;
    auto y = torch::empty_like(input);
    geluDropoutPass(input, y, {}, {}, p, seed);
    ctx->save_for_backward({input});
    ctx->saved_data["p"] = p;
    ctx->saved_data["seed"] = seedBits(seed);
    return y;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto input = ctx->get_saved_variables()[0];
    auto dy = grads[0].to(input.scalar_type()).contiguous();
    auto dh = torch::empty_like(input);
    geluDropoutPass(input, {}, dy, dh, ctx->saved_data["p"].toDouble(), seedOf(ctx->saved_data["seed"].toInt()));
    return {dh, torch::Tensor()};
  }
};

// ---- dropout + residual add + LayerNorm ----

template <typename X, typename Y>
void runResidualNorm(const ResidualNormProblem<X, Y>& p, bool backward, const torch::Tensor& on) {
  if (on.is_cuda()) {
#if CELLWRIGHT_CUDA_KERNELS
    if constexpr (std::is_same_v<X, float>) {
      const c10::cuda::CUDAGuard onDevice(on.device());
      return check(residualNormOnCuda(p, backward, streamOf(on)));
    }
#endif
    noKernels();
  }
  [[maybe_unused]] const bool avx2 = avx2LoopsTaken();  // (no AVX2 build off x86-64)
  cw::parallel::parallelChunks(p.rows, cpuThreads(p.rows * p.dim), [&](int64_t begin, int64_t end, int worker) {
#if CELLWRIGHT_FUSED_AVX2
    if (avx2) return cpu_avx2::residualNormRows(p, backward, begin, end, worker);
#endif
    cpu_baseline::residualNormRows(p, backward, begin, end, worker);
  });
}

// Partial rows of dγ and dβ the backward pass adds into: one per worker.
int64_t residualNormWorkers(const torch::Tensor& on, int64_t rows, int64_t dim) {
#if CELLWRIGHT_CUDA_KERNELS
  if (on.is_cuda()) return residualNormWorkersOnCuda(rows);
#endif
  (void)on;
  return cpuThreads(rows * dim);
}

// The problem's tensors; backward ones undefined in forward and the other way round.
struct ResidualNormTensors {
  torch::Tensor x, y, gamma, beta, out, outLow, sum, mean, rstd;  // forward
  torch::Tensor dOut, dOutLow, dx, dy, dGammaPartial, dBetaPartial;  // backward
};

template <typename Pointer>
Pointer* pointerOf(const torch::Tensor& t) {
  return t.defined() ? reinterpret_cast<Pointer*>(t.data_ptr()) : nullptr;
}

void residualNormPass(const ResidualNormTensors& t, int64_t rows, int64_t dim, double eps, double p, uint64_t seed,
                      bool backward) {
  auto run = [&](auto xType, auto yType) {
    using X = decltype(xType);
    using Y = decltype(yType);
    ResidualNormProblem<X, Y> problem{};
    problem.x = pointerOf<const X>(t.x);
    problem.y = pointerOf<const Y>(t.y);
    problem.gamma = pointerOf<const X>(t.gamma);
    problem.beta = pointerOf<const X>(t.beta);
    problem.out = pointerOf<X>(t.out);
    problem.outLow = pointerOf<Bf16>(t.outLow);
    problem.sum = pointerOf<X>(t.sum);
    problem.mean = pointerOf<X>(t.mean);
    problem.rstd = pointerOf<X>(t.rstd);
    problem.dOut = pointerOf<const X>(t.dOut);
    problem.dOutLow = pointerOf<const Bf16>(t.dOutLow);
    problem.dx = pointerOf<X>(t.dx);
    problem.dy = pointerOf<Y>(t.dy);
    problem.dGammaPartial = pointerOf<X>(t.dGammaPartial);
    problem.dBetaPartial = pointerOf<X>(t.dBetaPartial);
    problem.rows = rows;
    problem.dim = static_cast<int32_t>(dim);
    problem.eps = static_cast<X>(eps);
    problem.dropout = dropoutOf<X>(p, seed);
    runResidualNorm(problem, backward, t.sum);
  };
  const auto xType = t.sum.scalar_type(), yType = backward ? t.dy.scalar_type() : t.y.scalar_type();
  if (xType == torch::kDouble)
    run(double{}, double{});
  else if (yType == torch::kBFloat16)
    run(float{}, Bf16{});
  else
    run(float{}, float{});
}

struct ResidualNormFunction : public torch::autograd::Function<ResidualNormFunction> {
  static tensor_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& y,
                             const torch::Tensor& gamma, const torch::Tensor& beta, double eps, double p,
                             bool lowCopy) {
    const int64_t dim = x.size(-1), rows = x.numel() / std::max<int64_t>(dim, 1);
    ResidualNormTensors t;
    t.x = x.contiguous();
    t.y = y.contiguous();
    t.gamma = gamma.contiguous();
    t.beta = beta.contiguous();
    t.out = torch::empty_like(t.x);
    if (lowCopy) t.outLow = torch::empty(t.x.sizes(), t.x.options().dtype(torch::kBFloat16));
    t.sum = torch::empty_like(t.x);
    t.mean = torch::empty({rows}, t.x.options());
    t.rstd = torch::empty({rows}, t.x.options());
    const uint64_t seed = p > 0 ? drawDropoutSeed() : 0;
    residualNormPass(t, rows, dim, eps, p, seed, false);
    ctx->save_for_backward({t.sum, t.mean, t.rstd, t.gamma});
    ctx->saved_data["p"] = p;
    ctx->saved_data["seed"] = seedBits(seed);
    ctx->saved_data["y_type"] = static_cast<int64_t>(y.scalar_type());
    if (lowCopy) return {t.out, t.outLow};
    return {t.out};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    ResidualNormTensors t;
    t.sum = saved[0];
    t.mean = saved[1];
    t.rstd = saved[2];
    t.gamma = saved[3];
    const int64_t dim = t.sum.size(-1), rows = t.sum.numel() / std::max<int64_t>(dim, 1);
    const auto yType = static_cast<torch::ScalarType>(ctx->saved_data["y_type"].toInt());
    const bool lowUsed = grads.size() > 1 && grads[1].defined();
    if (!grads[0].defined() && !lowUsed)
      return {torch::zeros_like(t.sum), torch::zeros(t.sum.sizes(), t.sum.options().dtype(yType)),
              torch::zeros_like(t.gamma), torch::zeros_like(t.gamma), {}, {}, {}};
    // The loops read the value's gradient always (zeros where only the bf16 copy was used).
    t.dOut = grads[0].defined() ? grads[0].to(t.sum.scalar_type()).contiguous() : torch::zeros_like(t.sum);
    if (lowUsed) t.dOutLow = grads[1].to(torch::kBFloat16).contiguous();
    t.dx = torch::empty_like(t.sum);
    t.dy = torch::empty(t.sum.sizes(), t.sum.options().dtype(yType));
    const int64_t workers = residualNormWorkers(t.sum, rows, dim);
    t.dGammaPartial = torch::zeros({workers, dim}, t.sum.options());
    t.dBetaPartial = torch::zeros({workers, dim}, t.sum.options());
    residualNormPass(t, rows, dim, 0.0, ctx->saved_data["p"].toDouble(), seedOf(ctx->saved_data["seed"].toInt()),
                     true);
    return {t.dx, t.dy, t.dGammaPartial.sum(0), t.dBetaPartial.sum(0), {}, {}, {}};
  }
};

}  // namespace

uint64_t drawDropoutSeed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

torch::Tensor dropoutKeepMask(uint64_t seed, int64_t count, double p) {
  const auto dropout = dropoutOf<double>(p, seed);
  auto mask = torch::empty({count}, torch::kBool);
  auto* keep = mask.data_ptr<bool>();
  for (int64_t i = 0; i < count; ++i) keep[i] = keeps(dropout.seed, static_cast<uint64_t>(i), dropout.dropThreshold);
  return mask;
}

bool geluDropoutSupported(const torch::Tensor& h) {
  const auto t = h.scalar_type();
  return (floatingKind(t) || t == torch::kBFloat16) && onSupportedDevice(h);
}

torch::Tensor geluDropout(const torch::Tensor& h, double p) {
  if (!geluDropoutSupported(h)) throw cw::Error("fused GELU + dropout: unsupported input");
  if (p < 0 || p >= 1) throw cw::Error("fused GELU + dropout: p must be in [0, 1)");
  return GeluDropoutFunction::apply(h, p);
}

bool residualNormSupported(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gamma,
                           const torch::Tensor& beta) {
  // The kernels read gamma's and beta's data as x's type, on x's device.
  const auto t = x.scalar_type();
  return floatingKind(t) && (y.scalar_type() == t || (t == torch::kFloat && y.scalar_type() == torch::kBFloat16)) &&
         gamma.scalar_type() == t && beta.scalar_type() == t && x.sizes() == y.sizes() && x.dim() >= 1 &&
         gamma.numel() == x.size(-1) && beta.sizes() == gamma.sizes() && x.device() == y.device() &&
         gamma.device() == x.device() && beta.device() == x.device() && onSupportedDevice(x);
}

ResidualNormOutput residualNorm(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& gamma,
                                const torch::Tensor& beta, double eps, double p, bool lowCopy) {
  if (!residualNormSupported(x, y, gamma, beta))
    throw cw::Error("fused residual LayerNorm: unsupported input");
  if (p < 0 || p >= 1) throw cw::Error("fused residual LayerNorm: p must be in [0, 1)");
  auto outputs = ResidualNormFunction::apply(x, y, gamma, beta, eps, p, lowCopy);
  return {outputs[0], lowCopy ? outputs[1] : torch::Tensor()};
}

}  // namespace cw::plugins::fused
