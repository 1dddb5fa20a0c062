#pragma once
// Learning-rate schedule: linear warm-up, then constant, linear or cosine decay. Pure
// arithmetic (no torch) so the trainer and its tests share one definition.
#include <cstdint>
#include <string>

namespace cw::train {

enum class DecayKind { Constant, Linear, Cosine };

struct ScheduleOptions {
  double peakLearningRate = 1e-3;
  int64_t warmupSteps = 0;        // lr rises linearly from peak/warmup to peak over these steps
  int64_t totalSteps = 1;         // optimiser steps in the whole run
  DecayKind decay = DecayKind::Linear;
  double finalRatio = 0.0;        // lr at the last step = peak * finalRatio
};

// Learning rate for optimiser step `step` (0-based).
double learningRateAt(int64_t step, const ScheduleOptions& options);

// "constant" | "linear" | "cosine"; throws cw::Error on anything else.
DecayKind parseDecayKind(const std::string& name);

}  // namespace cw::train
