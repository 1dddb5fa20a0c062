#include "cellwright/compute/optimizers.h"

#include <optional>
#include <unordered_map>

#include "cellwright/compute/compat.h"

namespace cw::compute {

namespace {

// LibTorch's AdamW, whose step takes the fused CUDA kernel where every parameter with a
// gradient is a dense fp32 CUDA tensor on one device.
class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;

  torch::Tensor step(LossClosure closure = nullptr) override {
    if (!fusedApplies()) {
      lastFused_ = false;
      return torch::optim::AdamW::step(std::move(closure));
    }
    torch::NoGradGuard noGrad;
    torch::Tensor loss;
    if (closure) {
      at::AutoGradMode enableGrad(true);
      loss = closure();
    }
    for (auto& group : param_groups()) stepGroup(group);
    lastFused_ = true;
    return loss;
  }

  bool lastFused() const { return lastFused_; }

 private:
  // The fused kernel reads each parameter's step count from a float tensor on its device;
  // the int64 count in the AdamW state stays the one checkpoints keep.
  struct DeviceStep {
    torch::Tensor count;
    int64_t value = -1;
  };

  bool fusedApplies() const {
    if (!CELLWRIGHT_FUSED_ADAMW) return false;
    std::optional<torch::Device> device;
    for (const auto& group : param_groups())
      for (const auto& p : group.params()) {
        if (!p.grad().defined()) continue;
        if (!p.is_cuda() || p.scalar_type() != torch::kFloat || p.grad().is_sparse() ||
            p.grad().scalar_type() != torch::kFloat)
          return false;
        if (device && *device != p.device()) return false;
        device = p.device();
      }
    return device.has_value();
  }

  void stepGroup(torch::optim::OptimizerParamGroup& group) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    std::vector<torch::Tensor> params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state_[compat::optimizerStateKey(state_, p)];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        if (options.amsgrad()) fresh->max_exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<torch::optim::AdamWParamState&>(*slot);
      auto& deviceStep = deviceSteps_[p.unsafeGetTensorImpl()];
      if (deviceStep.value != state.step())  // new, or the state came from a checkpoint
        deviceStep.count = torch::full({}, static_cast<double>(state.step()), p.options().dtype(torch::kFloat));
      state.step(state.step() + 1);
      deviceStep.value = state.step();
      params.push_back(p);
      grads.push_back(p.grad());
      expAvgs.push_back(state.exp_avg());
      expAvgSqs.push_back(state.exp_avg_sq());
      if (options.amsgrad()) maxExpAvgSqs.push_back(state.max_exp_avg_sq());
      steps.push_back(deviceStep.count);
    }
    if (params.empty()) return;
    // Decoupled weight decay (AdamW), then Adam without decay: LibTorch's AdamW order.
    if (options.weight_decay() != 0) at::_foreach_mul_(params, 1.0 - options.lr() * options.weight_decay());
    at::_foreach_add_(steps, 1);
    at::_fused_adam_(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, steps, options.lr(),
                     std::get<0>(options.betas()), std::get<1>(options.betas()), /*weight_decay=*/0.0, options.eps(),
                     options.amsgrad(), /*maximize=*/false);
  }

  std::unordered_map<const void*, DeviceStep> deviceSteps_;
  bool lastFused_ = false;
};

}  // namespace

std::unique_ptr<torch::optim::Optimizer> makeAdamW(const std::vector<torch::Tensor>& parameters,
                                                   const torch::optim::AdamWOptions& options) {
  return std::make_unique<FusedAdamW>(parameters, options);
}

void clipGradientNorm(const std::vector<torch::Tensor>& parameters, double maxNorm) {
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return;
  const auto total = torch::stack(at::_foreach_norm(grads, 2)).norm();
  const auto factor = (maxNorm / (total + 1e-6)).clamp_max(1.0);
  for (auto& g : grads) g.mul_(factor.to(g.scalar_type()));
}

bool steppedFused(const torch::optim::Optimizer& optimizer) {
  const auto* fused = dynamic_cast<const FusedAdamW*>(&optimizer);
  return fused && fused->lastFused();
}

}  // namespace cw::compute
