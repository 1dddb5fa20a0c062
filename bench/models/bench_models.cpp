// Benchmark of the built-in models: (1) bf16 autocast vs fp32 agreement of forward outputs
// and gradients, (2) training and inference cells/s and peak memory at the reference
// settings of ../shared/docs/seed-models.md. Synthetic token batches (speed does not depend
// on the values). Writes a log to --out (default bench/results) and to $OUT when set.
//
//   cellwright_bench_models [--device cuda|cpu] [--tiny] [--models a,b] [--steps N] [--tokens N] [--threads N] [--mapped-allocations] [--plain-attention] [--check-fused-kernels] [--untimed-checks] [--profile] [--no-tile-kernels] [--out DIR]
#include <sys/resource.h>

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include "cellwright/compute/compat.h"
#include "cellwright/compute/device.h"
#include "cellwright/compute/heap_memory.h"
#include "cellwright/compute/optimizers.h"
#include "cellwright/compute/score_blocks.h"
#include "cellwright/core/errors.h"
#include "bench_support.h"
#include "cellwright/plugins/builtin.h"
#include "fused_checks.h"
#include "lsh_fused.h"
#include "lsh_attention.h"
#ifdef CELLWRIGHT_BENCH_PROFILE
#include "step_profile.h"
#endif

#ifdef CELLWRIGHT_BENCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/cuda.h>
#endif

namespace {

using cw::bench::relativeError;
using cw::bench::synchronize;
using cw::plugins::CellModel;
using cw::plugins::ModelShape;
using cw::tokenize::TokenBatch;

struct Setting {
  std::string label;      // row name in the table
  std::string plugin;
  nlohmann::json config;  // overrides of the preset
  std::string preset;
  int64_t tokens = 0;     // tokens per cell (genes for fixed-order models)
  int64_t vocab = 0;
  int64_t trainBatch = 0, inferBatch = 0;
  std::string trainTask;  // "pretrain" or "classify"
  std::string reference;  // the reference numbers, for the log
};

std::vector<Setting> settings(bool tiny) {
  if (tiny)
    return {{"cellpatch", "cellpatch", {}, "paper", 200, 2000, 16, 32, "classify", "tiny CPU run"},
            {"bioformer", "bioformer", {}, "small", 100, 200, 8, 16, "pretrain", "tiny CPU run"},
            {"bioformer-torch", "bioformer", {{"fused_kernels", false}}, "small", 100, 200, 8, 16, "pretrain",
             "tiny CPU run; torch's separate ops"},
            {"screformer-lsh", "screformer", {}, "small", 500, 600, 2, 4, "classify", "tiny CPU run"},
            {"screformer-lsh-torch", "screformer", {{"fused_kernels", false}}, "small", 500, 600, 2, 4, "classify",
             "tiny CPU run; torch formulation"},
            {"screformer-lsh-stored", "screformer", {{"fused_kernels", false}, {"recompute_scores", false}}, "small",
             500, 600, 2, 4, "classify", "tiny CPU run; scores stored for backward"},
            {"screformer-full", "screformer", {{"encoder", "full"}}, "small", 500, 600, 2, 4, "classify", "tiny CPU run"},
            {"screformer-lsh-nonreversible", "screformer", {{"reversible", false}}, "small", 500, 600, 2, 4,
             "classify", "tiny CPU run; activations stored"},
            {"screformer-full-nonreversible", "screformer", {{"encoder", "full"}, {"reversible", false}}, "small", 500,
             600, 2, 4, "classify", "tiny CPU run; activations stored"},
            {"mlp", "mlp", {}, "paper", 2000, 0, 64, 128, "classify", "tiny CPU run"},
            {"logreg", "logreg", {}, "paper", 2000, 0, 64, 128, "classify", "tiny CPU run"}};
  return {{"cellpatch", "cellpatch", {}, "paper", 2000, 70000, 256, 1024, "classify",
           "reference: 20,838 train / 147,348 infer cells/s, 1.3 / 3.1 GiB (fp32)"},
          {"bioformer", "bioformer", {}, "paper", 1000, 1002, 74, 256, "pretrain",
           "reference: 580 train / 2,099 infer cells/s, 19.4 / 4.7 GiB (fp16 autocast)"},
          {"bioformer-torch", "bioformer", {{"fused_kernels", false}}, "paper", 1000, 1002, 74, 256, "pretrain",
           "torch's separate ops for dropout, residual add, LayerNorm and GELU"},
          {"screformer-lsh", "screformer", {{"n_hashes", 4}}, "paper", 16907, 16908, 8, 32, "classify",
           "reference Reformer: 6.0 train cells/s, 30.7 GiB; OOM at inference batch 32 (fp32)"},
          {"screformer-full", "screformer", {{"encoder", "full"}}, "paper", 16907, 16908, 8, 32, "classify",
           "reference SDPA BERT: 22.0 train / 77.6 infer cells/s, 5.5 / 3.3 GiB (bf16)"},
          // Ordinary residual layers: backward reads stored activations instead of recomputing
          // each layer's forward (the reversible layers' extra forward pass, for memory).
          {"screformer-lsh-nonreversible", "screformer", {{"n_hashes", 4}, {"reversible", false}}, "paper", 16907,
           16908, 8, 32, "classify", "fused LSH, activations stored instead of recomputed (reversible: false)"},
          {"screformer-full-nonreversible", "screformer", {{"encoder", "full"}, {"reversible", false}}, "paper", 16907,
           16908, 8, 32, "classify", "SDPA, activations stored instead of recomputed (reversible: false)"},
          {"mlp", "mlp", {}, "paper", 16906, 0, 256, 1024, "classify", "baseline"},
          {"logreg", "logreg", {}, "paper", 16906, 0, 256, 1024, "classify", "baseline"},
          // The torch formulation last: the slowest rows, so a run the GPU machine's time limit
          // stops has the others (the log is rewritten after every row).
          {"screformer-lsh-torch", "screformer", {{"n_hashes", 4}, {"fused_kernels", false}}, "paper", 16907, 16908,
           8, 32, "classify", "torch formulation: sorted copies, batched matmuls, scores recomputed in backward"},
          {"screformer-lsh-stored", "screformer", {{"n_hashes", 4}, {"fused_kernels", false}, {"recompute_scores", false}},
           "paper", 16907, 16908, 8, 32, "classify", "torch formulation, scores stored for backward"}};
}

TokenBatch syntheticBatch(const Setting& s, const ModelShape& shape, int64_t b, const torch::Device& device) {
  TokenBatch batch;
  const int64_t l = s.plugin == "bioformer" ? s.tokens + 1 : s.tokens;
  if (s.plugin == "mlp" || s.plugin == "logreg") {
    batch.dense = torch::rand({b, s.tokens}) * 3;
  } else {
    batch.geneIds = torch::randint(1, s.vocab, {b, l}, torch::kLong);
    batch.values = torch::rand({b, l}) * 4;
    batch.bins = torch::randint(0, s.plugin == "bioformer" ? 51 : 6, {b, l}, torch::kLong);
    batch.paddingMask = torch::zeros({b, l}, torch::kBool);
    batch.maskedPositions = torch::rand({b, l}).lt(0.15);
    batch.maskedPositions.select(1, 1).fill_(true);
    batch.targetBins = torch::randint(0, s.plugin == "bioformer" ? 51 : 6, {b, l}, torch::kLong);
    batch.targetValues = torch::rand({b, l});
    const int64_t decoder = std::min<int64_t>(1000, s.tokens / 2);
    batch.decoderGeneIds = torch::randint(1, s.vocab, {b, decoder}, torch::kLong);
    batch.decoderTargets = torch::rand({b, decoder});
    batch.decoderPaddingMask = torch::zeros({b, decoder}, torch::kBool);
  }
  batch.labels = torch::randint(0, shape.nClasses, {b}, torch::kLong);
  batch.studies = torch::randint(0, std::max<int64_t>(shape.nStudies, 1), {b}, torch::kLong);
  batch.cellIndices.assign(static_cast<size_t>(b), 0);
  return batch.to(device);
}

torch::Tensor trainingLoss(CellModel& model, const TokenBatch& batch, const std::string& task) {
  if (task == "pretrain") return model.pretrainLosses(batch).total;
  return torch::nn::functional::cross_entropy(model.classify(batch).to(torch::kFloat), batch.labels);
}

void resetPeak(const torch::Device& device) {
#ifdef CELLWRIGHT_BENCH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
}

// GiB: CUDA allocator peak, or the process's peak resident set on the CPU.
double peakGiB(const torch::Device& device) {
#ifdef CELLWRIGHT_BENCH_CUDA
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0 * 1024.0);
  }
#endif
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct Agreement {
  double outputRelError = 0, gradRelError = 0;
  bool finite = true;
  int64_t bucketAssignments = 0, bucketsBf16WouldMove = 0;  // LSH models only
  double unpinnedOutputRelError = 0, unpinnedGradRelError = 0;  // bf16 with its own buckets
};

// Same weights, same batch: classify/pretrain loss and gradients under bf16 autocast vs fp32.
// LSH models replay the fp32 run's bucket assignments in the bf16 run: the check measures
// the arithmetic, not a token that lands in another bucket (counted and logged instead).
Agreement checkBf16(CellModel& model, const Setting& s, const TokenBatch& batch, const torch::Device& device) {
  model.eval();  // no dropout: the two runs must see the same network
  auto run = [&](bool autocast) {
    model.zero_grad();
    cw::compat::AutocastGuard guard(device.type(), torch::kBFloat16, autocast);
    auto out = model.classify(batch).to(torch::kFloat);
    auto loss = trainingLoss(model, batch, s.trainTask);
    loss.backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : model.parameters())
      if (p.grad().defined()) grads.push_back(p.grad().flatten().to(torch::kFloat));
    return std::make_pair(out.detach(), torch::cat(grads));
  };
  std::vector<torch::Tensor> fp32Buckets;
  auto [out32, grad32] = [&] {
    cw::plugins::lsh::BucketTape record;
    auto result = run(false);
    fp32Buckets = record.tape();
    return result;
  }();
  const bool lsh = !fp32Buckets.empty();
  Agreement a;
  if (lsh) {  // for the log: what the discrete bucket changes alone cost
    auto [out, grad] = run(true);
    a.unpinnedOutputRelError = relativeError(out, out32);
    a.unpinnedGradRelError = relativeError(grad, grad32);
  }
  cw::plugins::lsh::BucketTape replay(std::move(fp32Buckets));
  auto [out16, grad16] = run(true);
  a.bucketAssignments = replay.replayedAssignments();
  a.bucketsBf16WouldMove = replay.differingAssignments();
  a.outputRelError = relativeError(out16, out32);
  a.gradRelError = relativeError(grad16, grad32);
  a.finite = torch::isfinite(out16).all().item<bool>() && torch::isfinite(grad16).all().item<bool>();
  model.zero_grad();
  return a;
}

struct Timing {
  double trainCellsPerS = 0, inferCellsPerS = 0, trainPeakGiB = 0, inferPeakGiB = 0;
  std::string error;
  std::string profile;  // --profile: a training step's and an inference batch's kernels
};

// One call of `work` under the profiler, after the timed calls (so that neither the times nor
// the peaks include its cost); empty where the profiler is not built in.
std::string profiled(bool profile, const torch::Device& device, const std::string& title,
                     const std::function<void()>& work) {
#ifdef CELLWRIGHT_BENCH_PROFILE
  if (profile) return cw::bench::profileStep(device, title, work);
#endif
  return {};
}

Timing timeModel(CellModel& model, const Setting& s, const ModelShape& shape, const torch::Device& device,
                 bool bf16, int steps, bool profile) {
  Timing t;
  auto optimizer = cw::compute::makeAdamW(model.parameters(), torch::optim::AdamWOptions(1e-4));  // as training
  const auto train = syntheticBatch(s, shape, s.trainBatch, device);
  model.train();
  resetPeak(device);
  auto step = [&] {
    optimizer->zero_grad();
    cw::compat::AutocastGuard guard(device.type(), torch::kBFloat16, bf16);
    trainingLoss(model, train, s.trainTask).backward();
    optimizer->step();
  };
  step();  // warm-up
  synchronize(device);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  synchronize(device);
  t.trainCellsPerS = static_cast<double>(s.trainBatch * steps) / seconds(start);
  t.trainPeakGiB = peakGiB(device);
  t.profile += profiled(profile, device, s.label + ": one training step (batch " + std::to_string(s.trainBatch) + ")", step);

  const auto infer = syntheticBatch(s, shape, s.inferBatch, device);
  model.eval();
  optimizer->zero_grad();
  resetPeak(device);
  torch::NoGradGuard noGrad;
  auto forward = [&] {
    cw::compat::AutocastGuard guard(device.type(), torch::kBFloat16, bf16);
    model.classify(infer);
  };
  forward();
  synchronize(device);
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) forward();
  synchronize(device);
  t.inferCellsPerS = static_cast<double>(s.inferBatch * steps) / seconds(start);
  t.inferPeakGiB = peakGiB(device);
  t.profile += profiled(profile, device, s.label + ": one inference batch (" + std::to_string(s.inferBatch) + ")", forward);
  return t;
}

// Cells/s with at least two significant digits (CPU runs of the paper presets are slow).
std::string rate(double cellsPerS) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(cellsPerS >= 10 ? 1 : cellsPerS >= 1 ? 2 : 3)
       << cellsPerS;
  return text.str();
}

std::string timestamp() {
  const auto now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y%m%dT%H%M%SZ");
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string deviceName, outDir = "bench/results", only;
  bool tiny = false;
  int steps = 0;
  int64_t tokens = 0;  // > 0: this many tokens (and genes) for the seed models instead of the setting's
  int threads = 0;     // CPU threads, 0 = all cores as the CLI and the GUI default
  bool heapScope = true;  // false: malloc as the environment sets it (bench/models/heap_trim.sh)
  bool checkFused = false;  // fused kernels against the torch code they replace, before the models
  bool timedChecks = true;  // false: those checks small and untimed (bench/gpu.sh's compute-sanitizer runs)
  bool profile = false;  // a training step's and an inference batch's kernels per model (bench/gpu-profile.sh)
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--device") deviceName = value();
    else if (arg == "--tiny") tiny = true;
    else if (arg == "--models") only = "," + value() + ",";
    else if (arg == "--steps") steps = std::stoi(value());
    else if (arg == "--out") outDir = value();
    else if (arg == "--tokens") tokens = std::stoll(value());
    else if (arg == "--threads") threads = std::stoi(value());
    else if (arg == "--mapped-allocations") heapScope = false;
    else if (arg == "--plain-attention") cw::compute::setAttentionBlocking(false);  // whole score tensors, as reference
    else if (arg == "--check-fused-kernels") checkFused = true;  // its peak memory would count in the CPU's max RSS
    else if (arg == "--untimed-checks") checkFused = true, timedChecks = false;
    else if (arg == "--profile") profile = true;
    else if (arg == "--no-tile-kernels") cw::plugins::lsh::allowTileKernels(false);  // LSH's slot kernels on CUDA
    else {
      std::cerr << "usage: cellwright_bench_models [--device cuda|cpu] [--tiny] [--models a,b] [--steps N] [--tokens N] [--threads N] [--mapped-allocations] [--plain-attention] [--check-fused-kernels] [--untimed-checks] [--profile] [--no-tile-kernels] [--out DIR]\n";
      return 2;
    }
  }
  if (deviceName.empty()) deviceName = torch::cuda::is_available() ? "cuda" : "cpu";
  const torch::Device device(deviceName == "cuda" ? torch::kCUDA : torch::kCPU);
  if (device.is_cuda() && !torch::cuda::is_available()) {
    std::cerr << "No CUDA device available\n";
    return 1;
  }
  if (steps <= 0) steps = tiny ? 2 : 10;
#ifndef CELLWRIGHT_BENCH_PROFILE
  if (profile) {
    std::cerr << "--profile: built without the profiler (-DCELLWRIGHT_BENCH_PROFILE=ON)\n";
    return 2;
  }
#endif
  threads = cw::configureThreads(threads);  // as the CLI does; LibTorch alone starts with one
  // bf16 autocast for the timed runs on CUDA (CellPatch and the baselines stay fp32 like
  // their references); on the CPU everything is fp32.
  cw::plugins::PluginRegistry registry;
  cw::plugins::registerBuiltinPlugins(registry);

  std::ostringstream log;
  log << "# Cellwright model benchmark " << timestamp() << "\n"
      << "device: " << deviceName << (tiny ? " (tiny sizes)" : " (reference settings)") << ", torch "
      << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR << ", steps " << steps
      << (device.is_cpu() ? ", " + std::to_string(threads) + " CPU threads" : std::string())
      << (tokens > 0 ? ", seed models at " + std::to_string(tokens) + " tokens" : std::string()) << "\n\n"
      << "| model | tokens | precision | train batch | train cells/s | train peak GiB | infer batch | infer cells/s"
         " | infer peak GiB | bf16 vs fp32 output rel. err | grad rel. err | check | reference |\n"
      << "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::cout << log.str() << std::flush;
  bool allAgree = true;
  std::ostringstream notes;
  // The log is rewritten after each step, so a run stopped by a time limit leaves what it
  // measured (under $OUT too, which the GPU machine hands back).
  const std::string name = "models-" + deviceName + (tiny ? "-tiny-" : "-") + timestamp() + ".md";
  std::vector<std::filesystem::path> targets{std::filesystem::path(outDir) / name};
  if (const char* out = std::getenv("OUT"); out && *out) targets.push_back(std::filesystem::path(out) / name);
  auto writeLog = [&] {
    for (const auto& path : targets) {
      std::filesystem::create_directories(path.parent_path());
      std::ofstream(path) << log.str() << notes.str()
                          << "\nPeak memory: CUDA allocator peak per phase on GPU; process max RSS on CPU "
                             "(cumulative).\nTraining: pre-training losses for bioformer, classification "
                             "fine-tuning otherwise (AdamW).\n";
    }
  };
  auto stopIfDeviceLost = [&](const std::string& after) {
    if (!cw::bench::deviceLost(device)) return false;
    const std::string line = "\nThe CUDA device stopped working after " + after + ": benchmark stopped (status " +
                             std::to_string(cw::bench::kDeviceLost) + ").\n";
    std::cout << line << std::flush;
    notes << line;
    writeLog();
    return true;
  };
  if (checkFused) {
    const std::string checks = cw::bench::checkFusedKernels(device, timedChecks, allAgree);
    std::cout << checks << std::flush;
    notes << checks;
    writeLog();
    if (!allAgree && stopIfDeviceLost("the fused kernel checks")) return cw::bench::kDeviceLost;
  }
  for (auto s : settings(tiny)) {
    if (tokens > 0 && s.plugin != "mlp" && s.plugin != "logreg") {
      s.tokens = tokens;
      s.vocab = s.plugin == "screformer" ? tokens + 1 : std::max(s.vocab, tokens + 1);
    }
    if (!only.empty() && only.find("," + s.label + ",") == std::string::npos) continue;
    std::ostringstream row;
    // As the engine's training and inference run on a CPU: freed blocks stay in the heap.
    std::optional<cw::HeapMemoryScope> heap;
    if (device.is_cpu() && heapScope) heap.emplace();
    try {
      const ModelShape shape{s.vocab, 11, s.plugin == "bioformer" ? 5 : 0, s.tokens};
      nlohmann::json config = registry.plugin(s.plugin).defaultConfig(s.preset);
      for (const auto& item : s.config.items()) config[item.key()] = item.value();
      torch::manual_seed(2022);
      auto model = registry.makeModel(s.plugin, config, shape);
      model->to(device);
      const bool bf16 = device.is_cuda() && (s.plugin == "bioformer" || s.plugin == "screformer");
      Agreement agreement;
      const bool checkable = s.plugin != "logreg" && s.plugin != "mlp";
      if (checkable) agreement = checkBf16(*model, s, syntheticBatch(s, shape, 2, device), device);
      // bf16 keeps 8 mantissa bits: outputs within 5%, gradients within 15% in norm.
      const bool ok = !checkable || (agreement.finite && agreement.outputRelError < 0.05 && agreement.gradRelError < 0.15);
      allAgree = allAgree && ok;
      if (agreement.bucketAssignments > 0)
        notes << "\n" << s.label << " bf16 check: the bf16 run replayed the fp32 run's " << agreement.bucketAssignments
              << " LSH bucket assignments; its own hashing would have moved " << agreement.bucketsBf16WouldMove << " ("
              << std::setprecision(3) << std::fixed
              << 100.0 * static_cast<double>(agreement.bucketsBf16WouldMove) / static_cast<double>(agreement.bucketAssignments)
              << "%). With its own buckets: output rel. err " << std::setprecision(4)
              << agreement.unpinnedOutputRelError << ", grad rel. err " << agreement.unpinnedGradRelError << ".\n";
      const Timing t = timeModel(*model, s, shape, device, bf16, steps, profile);
      std::cout << t.profile;
      notes << t.profile;
      if (s.plugin == "bioformer") {
        // Matmul FLOPs per cell, forward: per layer L·(8d² + 4·d·ff) + 4·L²·d; training ≈ 3×.
        const auto c = model->config();
        const double l = static_cast<double>(s.tokens + 1), d = c.at("dim").get<double>(),
                     ff = c.at("ff_hidden").get<double>(), layers = c.at("layers").get<double>();
        const double flopsPerCell = 3.0 * layers * (l * (8 * d * d + 4 * d * ff) + 4 * l * l * d);
        const double tflops = t.trainCellsPerS * flopsPerCell / 1e12;
        notes << "\n" << s.label << " training: " << std::setprecision(1) << std::fixed << tflops << " TFLOP/s = "
              << 100.0 * tflops / 790.0 << "% of the H100 bf16 dense peak (~790 TFLOP/s); "
              << std::setprecision(0) << flopsPerCell / 1e9 << " GFLOP per training cell.\n";
      }
      row << std::fixed << "| " << s.label << " | " << s.tokens << " | " << (bf16 ? "bf16 autocast" : "fp32") << " | "
          << s.trainBatch << " | " << rate(t.trainCellsPerS) << " | " << std::setprecision(2) << t.trainPeakGiB
          << " | " << s.inferBatch << " | " << rate(t.inferCellsPerS) << " | " << std::setprecision(2)
          << t.inferPeakGiB << " | " << std::setprecision(4)
          << agreement.outputRelError << " | " << agreement.gradRelError << " | "
          << (checkable ? (ok ? "ok" : "FAIL") : "n/a") << " | " << s.reference << " |\n";
    } catch (const std::exception& e) {
      std::string what = e.what();
      what = what.substr(0, what.find('\n'));
      row << "| " << s.label << " | " << s.tokens << " | error: " << what << " |||||||||| " << s.reference << " |\n";
      allAgree = false;
    }
    std::cout << row.str() << std::flush;
    log << row.str();
    writeLog();
    if (!allAgree && stopIfDeviceLost(s.label)) return cw::bench::kDeviceLost;
#ifdef CELLWRIGHT_BENCH_CUDA
    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::emptyCache();  // next model starts clean
#endif
  }
  writeLog();
  for (const auto& path : targets) std::cout << "log written to " << path.string() << "\n";
  return allAgree ? 0 : 3;
}
