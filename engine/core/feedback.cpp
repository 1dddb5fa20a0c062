#include "cellwright/core/feedback.h"

#include "cellwright/core/errors.h"

namespace cw {

void Feedback::throwIfCanceled() const {
  if (isCanceled()) throw Canceled();
}

void Feedback::setProgress(double fraction, const std::string& stage) {
  Progress p;
  p.fraction = fraction;
  p.stage = stage;
  report(p);
}

void Feedback::report(const Progress& progress) {
  if (progress.fraction >= 0) lastFraction_.store(progress.fraction, std::memory_order_relaxed);
  if (onProgress_) onProgress_(progress);
}

void Feedback::log(LogLevel level, const std::string& message) {
  if (onLog_) onLog_(level, message);
}

}  // namespace cw
