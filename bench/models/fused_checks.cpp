// The fused kernels on the benchmark's device against the torch ops they replace: LSH
// attention, the transformer-block steps and the fused AdamW step. The tests check the
// kernels' arithmetic through the CPU loops; this checks the CUDA launches, and times them
// (untimed, at small sizes, for a run under compute-sanitizer).
#include "fused_checks.h"

#include <ATen/CPUGeneratorImpl.h>

#include <iomanip>
#include <optional>
#include <sstream>

#include "bench_support.h"
#include "cellwright/compute/heap_memory.h"
#include "cellwright/compute/optimizers.h"
#include "fused_block.h"
#include "lsh_attention.h"
#include "lsh_fused.h"

namespace cw::bench {

namespace {

// The fused LSH kernels against the torch formulation on this device, in fp32 at the paper's
// widths (64 per head, buckets of 64, 4 rounds counted once) with padding: output and
// gradients, and the time of one attention call at batch 8 × 10 heads (on CUDA in bf16 at
// the reference 16,907 genes, padded to 17,024). The tests check
// the kernels' arithmetic on the CPU; this checks the CUDA launches and times them.
std::string checkLsh(const torch::Device& device, bool timed, bool& agrees) {
  namespace lsh = cw::plugins::lsh;
  auto inputs = [&](int64_t n, int64_t l) {
    torch::manual_seed(5);
    auto opts = torch::TensorOptions().device(device);
    std::vector<torch::Tensor> t{torch::randn({n, l, 64}, opts), torch::randn({n, l, 64}, opts),
                                 torch::zeros({n, l}, opts.dtype(torch::kBool)), torch::randn({n, l, 64}, opts)};
    t[2][n - 1].narrow(0, l - l / 4, l / 4).fill_(true);
    auto rotations = lsh::randomRotations(64, 4, l / 64, at::make_generator<at::CPUGeneratorImpl>(3), device,
                                          torch::kFloat);
    t.push_back(lsh::hashBuckets(t[0], rotations));
    return t;
  };
  auto run = [&](const std::vector<torch::Tensor>& t, bool fused) {
    auto qk = t[0].clone().requires_grad_(true), v = t[1].clone().requires_grad_(true);
    lsh::LshOptions options{64, 4, true};
    options.fusedKernels = fused;
    auto out = lsh::lshAttention(qk, v, t[2], t[4], options);
    (out * t[3]).sum().backward();
    return std::vector<torch::Tensor>{out.detach(), qk.grad(), v.grad()};
  };
  const auto small = inputs(6, 1024);
  if (!lsh::fusedAttentionSupported(small[0], 4, 64)) return "Fused LSH kernels: not built for this device.\n";
  const auto fused = run(small, true), reference = run(small, false);
  std::ostringstream line;
  line << std::setprecision(2) << std::scientific << "Fused LSH kernels vs the torch formulation (fp32, 6 x 1,024 x 64, "
       << "4 rounds, buckets of 64, padding): output rel. err " << relativeError(fused[0], reference[0]) << ", dqk "
       << relativeError(fused[1], reference[1]) << ", dv " << relativeError(fused[2], reference[2]);
  for (int i = 0; i < 3; ++i) agrees = agrees && relativeError(fused[i], reference[i]) < 1e-4;
  // bf16, as autocast hands it over: on CUDA the tile kernels (tensor cores) against the slot
  // kernels. Disagreeing tiles are turned off for the model rows, which then still measure.
  const bool tilesWanted = lsh::tileKernelsAllowed();  // (off under --no-tile-kernels)
  bool tilesRan = false, tilesAgree = true;
  if (device.is_cuda() && tilesWanted) {
    auto small16 = small;
    for (int i : {0, 1, 3}) small16[i] = small16[i].to(torch::kBFloat16);
    const int64_t before = lsh::tileKernelCalls();
    const auto tiles = run(small16, true);
    tilesRan = lsh::tileKernelCalls() > before;
    lsh::allowTileKernels(false);
    const auto slots = run(small16, true);
    lsh::allowTileKernels(true);
    if (tilesRan) {
      line << "; in bf16, the tile kernels (tensor cores) vs the slot kernels: output rel. err "
           << relativeError(tiles[0], slots[0]) << ", dqk " << relativeError(tiles[1], slots[1]) << ", dv "
           << relativeError(tiles[2], slots[2]);
      for (int i = 0; i < 3; ++i) tilesAgree = tilesAgree && relativeError(tiles[i], slots[i]) < 2e-2;
      if (!tilesAgree) line << " (DISAGREE: the tile kernels are off for everything below)";
      agrees = agrees && tilesAgree;
    } else {
      line << "; the tile kernels did not run (not compiled for this shape, or too little shared memory)";
    }
  }
  if (!timed) return line.str() + ".\n";
  // Batch 8 × 10 heads; on the CPU at 1,024 genes, with freed blocks kept as training does.
  std::optional<cw::HeapMemoryScope> heap;
  if (device.is_cpu()) heap.emplace();
  const int64_t length = device.is_cuda() ? 17024 : 1024;
  auto large = inputs(80, length);
  if (device.is_cuda())  // in bf16, as the autocast training rows run it
    for (int i : {0, 1, 3}) large[i] = large[i].to(torch::kBFloat16);
  auto milliseconds = [&](const std::function<void()>& call) { return millisecondsPerCall(device, call); };
  line << std::fixed << std::setprecision(1) << ". One call at 80 x " << length << " x 64"
       << (device.is_cuda() ? " in bf16" : "") << ", forward + backward / forward without autograd:";
  struct Variant {
    const char* name;
    bool fused, tiles;
  };
  std::vector<Variant> variants{{"fused", true, true}, {"torch", false, false}};
  if (tilesRan) variants = {{"fused tiles", true, true}, {"fused slots", true, false}, {"torch", false, false}};
  for (const auto& variant : variants) {
    lsh::LshOptions options{64, 4, true};
    options.fusedKernels = variant.fused;
    lsh::allowTileKernels(variant.tiles && tilesWanted && tilesAgree);
    const double trained = milliseconds([&] { run(large, variant.fused); });
    const double inferred = milliseconds([&] {
      torch::NoGradGuard noGrad;
      lsh::lshAttention(large[0], large[1], large[2], large[4], options);
    });
    line << (variant.fused && variant.tiles ? " " : "; ") << variant.name << " " << trained << " / " << inferred
         << " ms";
  }
  lsh::allowTileKernels(tilesWanted && tilesAgree);
  line << ".\n";
  return line.str();
}


// The fused block steps against torch's ops at BioFormer's reference width (74 cells × 1,001
// tokens × 512 on CUDA, 8 cells on the CPU; the hidden layer 2,048 wide), with dropout 0.1 drawn by the kernels' mask
// (dropoutKeepMask, computed on the CPU): values and gradients, fp32 and bf16 sublayer
// output, then the time of each step forward + backward, fused and as torch's ops.
std::string checkBlock(const torch::Device& device, bool timed, bool& agrees) {
  namespace fused = cw::plugins::fused;
  namespace F = torch::nn::functional;
  const int64_t rows = (device.is_cuda() && timed ? 74 : timed ? 8 : 2) * 1001, dim = 512;  // the CPU checks at batch 8
  std::optional<cw::HeapMemoryScope> heap;  // on the CPU, freed blocks kept as training keeps them
  if (device.is_cpu()) heap.emplace();
  const double p = 0.1;
  auto opts = torch::TensorOptions().device(device);
  torch::manual_seed(4);
  auto x = torch::randn({rows, dim}, opts).requires_grad_(true);
  auto gamma = (torch::rand({dim}, opts) + 0.5).requires_grad_(true);
  auto beta = torch::randn({dim}, opts).requires_grad_(true);
  auto upstream = torch::randn({rows, dim}, opts);
  auto maskOf = [&](uint64_t seed, const torch::Tensor& like) {
    torch::manual_seed(seed);
    auto mask = fused::dropoutKeepMask(fused::drawDropoutSeed(), like.numel(), p).view(like.sizes());
    torch::manual_seed(seed);
    return mask.to(like.device()).to(torch::kFloat);
  };
  std::ostringstream line;
  line << std::setprecision(2) << std::scientific
       << "Fused block steps vs torch's ops (" << rows << " x " << dim << ", dropout " << std::defaultfloat << p
       << std::scientific << "):";
  for (auto yType : {torch::kFloat, torch::kBFloat16}) {
    auto y = torch::randn({rows, dim}, opts).to(yType).requires_grad_(true);
    const auto mask = maskOf(9, x);
    auto out = fused::residualNorm(x, y, gamma, beta, 1e-5, p, yType == torch::kBFloat16);
    auto reference = F::layer_norm(x + y.to(torch::kFloat) * mask / (1 - p),
                                   F::LayerNormFuncOptions({dim}).weight(gamma).bias(beta));
    const std::vector<torch::Tensor> inputs{x, y, gamma, beta};
    const auto got = torch::autograd::grad({(out.value * upstream).sum()}, inputs);
    const auto want = torch::autograd::grad({(reference * upstream).sum()}, inputs);
    double worst = relativeError(out.value, reference);
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, relativeError(got[i], want[i]));
    if (out.low.defined()) worst = std::max(worst, relativeError(out.low, out.value.to(torch::kBFloat16)));
    // bf16 dy is rounded once more than the reference's fp32 one.
    agrees = agrees && worst < (yType == torch::kBFloat16 ? 1e-2 : 1e-4);
    line << " residual LayerNorm, " << (yType == torch::kBFloat16 ? "bf16" : "fp32") << " sublayer: worst rel. err "
         << worst << ";";
  }
  {
    auto h = torch::randn({rows / 4, 2048}, opts).requires_grad_(true);
    const auto mask = maskOf(10, h);
    auto y = fused::geluDropout(h, p);
    auto reference = torch::gelu(h) * mask / (1 - p);
    auto up = torch::randn_like(h);
    const double worst = std::max(relativeError(y, reference),
                                  relativeError(torch::autograd::grad({(y * up).sum()}, {h})[0],
                                                torch::autograd::grad({(reference * up).sum()}, {h})[0]));
    agrees = agrees && worst < 1e-4;
    line << " GELU + dropout: worst rel. err " << worst << ".";
  }
  if (!timed) return line.str() + "\n";
  // Times at the reference shapes, as training runs them: bf16 autocast on CUDA (bf16
  // sublayer, fp32 residual), fp32 on the CPU.
  const auto sublayerType = device.is_cuda() ? torch::kBFloat16 : torch::kFloat;
  auto y16 = torch::randn({rows, dim}, opts.dtype(sublayerType)).requires_grad_(true);
  auto h16 = torch::randn({rows, 2048}, opts.dtype(sublayerType)).requires_grad_(true);
  auto up16 = torch::randn({rows, 2048}, opts.dtype(sublayerType));
  const bool lowCopy = device.is_cuda();
  auto norm = [&](bool fusedSteps) {
    if (fusedSteps) {
      auto out = fused::residualNorm(x, y16, gamma, beta, 1e-5, p, lowCopy);
      auto loss = (out.value * upstream).sum();
      if (lowCopy) loss = loss + (out.low.to(torch::kFloat) * upstream).sum();
      loss.backward();
    } else {
      auto out = F::layer_norm(x + torch::dropout(y16, p, true), F::LayerNormFuncOptions({dim}).weight(gamma).bias(beta));
      auto loss = (out * upstream).sum();
      if (lowCopy) loss = loss + (out.to(torch::kBFloat16).to(torch::kFloat) * upstream).sum();
      loss.backward();
    }
  };
  auto gelu = [&](bool fusedSteps) {
    auto y = fusedSteps ? fused::geluDropout(h16, p) : torch::dropout(torch::gelu(h16), p, true);
    (y * up16).sum().backward();
  };
  line << std::fixed << std::setprecision(2) << " Forward + backward at " << rows << " tokens ("
       << (lowCopy ? "bf16 sublayer and copy" : "fp32") << "), fused / torch:"
       << " residual LayerNorm " << millisecondsPerCall(device, [&] { norm(true); }) << " / "
       << millisecondsPerCall(device, [&] { norm(false); }) << " ms, GELU + dropout (x 2,048) "
       << millisecondsPerCall(device, [&] { gelu(true); }) << " / " << millisecondsPerCall(device, [&] { gelu(false); })
       << " ms (each with the loss's own passes).\n";
  return line.str();
}

// makeAdamW's optimiser against LibTorch's AdamW over BioFormer-sized parameters: the same
// parameters after 3 steps, whether it took the fused kernel, and the time of one step.
std::string checkAdamW(const torch::Device& device, bool timed, bool& agrees) {
  torch::manual_seed(12);
  std::vector<torch::Tensor> a, b;
  for (int i = 0; i < 12 * 16; ++i) {
    int64_t n = i % 16 < 4 ? 512 * 512 : i % 16 < 8 ? 512 : i % 16 < 10 ? 512 * 2048 : 2048;
    if (!timed) n = n / 64 + 1;  // odd lengths: the kernel's tails
    auto t = torch::randn({n}, torch::TensorOptions().device(device));
    a.push_back(t.clone().requires_grad_(true));
    b.push_back(t.clone().requires_grad_(true));
  }
  const auto options = torch::optim::AdamWOptions(1e-3).weight_decay(0.01);
  auto fusedOptimizer = cw::compute::makeAdamW(a, options);
  torch::optim::AdamW reference(b, options);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < a.size(); ++i) {
      auto g = torch::randn_like(a[i]);
      a[i].mutable_grad() = g.clone();
      b[i].mutable_grad() = g;
    }
    fusedOptimizer->step();
    reference.step();
  }
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, relativeError(a[i].detach(), b[i].detach()));
  agrees = agrees && worst < 1e-5;
  const bool fused = cw::compute::steppedFused(*fusedOptimizer);
  std::ostringstream line;
  line << std::setprecision(2) << std::scientific << "AdamW (" << a.size() << " tensors, "
       << (fused ? "fused multi-tensor kernel" : "LibTorch's per-parameter step: no fused kernel on this device")
       << ") vs LibTorch's AdamW after 3 steps: worst rel. err " << worst;
  if (!timed) return line.str() + ".\n";
  line << std::fixed << std::setprecision(2) << ". One step: " << millisecondsPerCall(device, [&] { fusedOptimizer->step(); }) << " ms against "
       << millisecondsPerCall(device, [&] { reference.step(); }) << " ms.\n";
  return line.str();
}

}  // namespace

std::string checkFusedKernels(const torch::Device& device, bool timed, bool& agrees) {
  std::string notes;
  for (auto* check : {&checkLsh, &checkBlock, &checkAdamW}) {
    try {
      notes += "\n" + check(device, timed, agrees);
    } catch (const std::exception& e) {
      std::string what = e.what();
      notes += "\nFused kernel check failed: " + what.substr(0, what.find('\n')) + "\n";
      agrees = false;
    }
  }
  return notes;
}

}  // namespace cw::bench
