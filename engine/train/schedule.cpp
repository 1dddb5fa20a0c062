#include "cellwright/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "cellwright/core/errors.h"

namespace cw::train {

double learningRateAt(int64_t step, const ScheduleOptions& o) {
  const double peak = o.peakLearningRate;
  if (o.warmupSteps > 0 && step < o.warmupSteps)
    return peak * static_cast<double>(step + 1) / static_cast<double>(o.warmupSteps);
  const int64_t decaySteps = std::max<int64_t>(1, o.totalSteps - o.warmupSteps - 1);
  const double t = std::clamp(static_cast<double>(step - o.warmupSteps) / static_cast<double>(decaySteps), 0.0, 1.0);
  const double low = peak * o.finalRatio;
  switch (o.decay) {
    case DecayKind::Constant: return peak;
    case DecayKind::Linear: return peak + (low - peak) * t;
    case DecayKind::Cosine: return low + (peak - low) * 0.5 * (1.0 + std::cos(M_PI * t));
  }
  return peak;
}

DecayKind parseDecayKind(const std::string& name) {
  if (name == "constant") return DecayKind::Constant;
  if (name == "linear") return DecayKind::Linear;
  if (name == "cosine") return DecayKind::Cosine;
  throw Error("unknown learning-rate decay '" + name + "' (use constant, linear or cosine)");
}

}  // namespace cw::train
