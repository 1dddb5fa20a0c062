#pragma once
// The few LibTorch API differences between Debian's 1.13 (CPU) and PyTorch 2.x (CUDA),
// in one place. Include only from .cpp files that already use torch.
#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include "cellwright/compute/score_blocks.h"

#include <optional>
#include <sstream>
#include <string>
#include <type_traits>

#define CELLWRIGHT_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace cw::compat {

// softmax(q·kᵀ/√d + mask)·v over the last two dims. `attnMask`: bool (true = attend) or an
// additive float mask broadcastable to [..., Lq, Lk]. Fused kernel on torch >= 2.0; before,
// without autograd, in blocks of bounded score memory (score_blocks.h).
inline torch::Tensor scaledDotProductAttention(const torch::Tensor& q, const torch::Tensor& k,
                                               const torch::Tensor& v,
                                               const std::optional<torch::Tensor>& attnMask = std::nullopt,
                                               double dropout = 0.0, bool isCausal = false) {
#if CELLWRIGHT_TORCH_AT_LEAST(2, 0)
  c10::optional<torch::Tensor> mask;
  if (attnMask) mask = *attnMask;
  return at::scaled_dot_product_attention(q, k, v, mask, dropout, isCausal);
#else
  if (!torch::GradMode::is_enabled() && compute::attentionBlocking())
    return compute::blockedAttention(q, k, v, attnMask, dropout, isCausal);
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (isCausal) {
    auto causal = torch::ones({q.size(-2), k.size(-2)}, q.options().dtype(torch::kBool)).tril();
    scores = scores.masked_fill(causal.logical_not(), -std::numeric_limits<float>::infinity());
  }
  if (attnMask) {
    if (attnMask->scalar_type() == torch::kBool)
      scores = scores.masked_fill(attnMask->logical_not(), -std::numeric_limits<float>::infinity());
    else
      scores = scores + *attnMask;
  }
  auto weights = torch::softmax(scores, -1);
  if (dropout > 0.0) weights = torch::dropout(weights, dropout, /*train=*/true);
  return torch::matmul(weights, v);
#endif
}

// Key of parameter `p` in torch::optim::Optimizer::state(): the TensorImpl's address printed
// as a string in LibTorch 1.13, the raw pointer in 2.x. Deduced from the map's key type.
template <typename StateMap>
typename StateMap::key_type optimizerStateKey(const StateMap&, const torch::Tensor& p) {
  using Key = typename StateMap::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;  // what c10::guts::to_string did
    text << p.unsafeGetTensorImpl();
    return text.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

namespace detail {
// Autocast's per-device switches: one API from 2.4, per-device functions before.
inline bool autocastEnabled(torch::DeviceType device) {
#if CELLWRIGHT_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
inline void setAutocastEnabled(torch::DeviceType device, bool enabled) {
#if CELLWRIGHT_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(device, enabled);
#else
  if (device == torch::kCUDA)
    at::autocast::set_enabled(enabled);
  else
    at::autocast::set_cpu_enabled(enabled);
#endif
}
inline torch::ScalarType autocastDtype(torch::DeviceType device) {
#if CELLWRIGHT_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}
inline void setAutocastDtype(torch::DeviceType device, torch::ScalarType dtype) {
#if CELLWRIGHT_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == torch::kCUDA)
    at::autocast::set_autocast_gpu_dtype(dtype);
  else
    at::autocast::set_autocast_cpu_dtype(dtype);
#endif
}
}  // namespace detail

// RAII autocast region (mixed precision) for one device type; a no-op when disabled.
class AutocastGuard {
 public:
  AutocastGuard(torch::DeviceType device, torch::ScalarType dtype, bool enabled) : device_(device), enabled_(enabled) {
    if (!enabled_) return;
    previousEnabled_ = detail::autocastEnabled(device_);
    previousDtype_ = detail::autocastDtype(device_);
    detail::setAutocastDtype(device_, dtype);
    detail::setAutocastEnabled(device_, true);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    detail::setAutocastEnabled(device_, previousEnabled_);
    detail::setAutocastDtype(device_, previousDtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  torch::DeviceType device_;
  bool enabled_;
  bool previousEnabled_ = false;
  torch::ScalarType previousDtype_ = torch::kFloat;
};

// RAII region with autocast off for one device type, the previous state restored after.
// For discrete decisions (LSH buckets) that must not depend on reduced-precision rounding,
// and for code that picks its own dtypes.
class AutocastOff {
 public:
  explicit AutocastOff(torch::DeviceType device)
      : device_(device), previousEnabled_(detail::autocastEnabled(device)) {
    detail::setAutocastEnabled(device_, false);
  }
  ~AutocastOff() { detail::setAutocastEnabled(device_, previousEnabled_); }
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  torch::DeviceType device_;
  bool previousEnabled_;
};

// Whether autocast is on for a device type, and its dtype.
struct AutocastState {
  bool enabled = false;
  torch::ScalarType dtype = torch::kBFloat16;
};

inline AutocastState autocastState(torch::DeviceType device) {
  return {detail::autocastEnabled(device), detail::autocastDtype(device)};
}

}  // namespace cw::compat
