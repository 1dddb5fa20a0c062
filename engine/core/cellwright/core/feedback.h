#pragma once
// Feedback: the one channel between long engine work and whoever started it (CLI, GUI job).
// Qt-free, like QGIS's QgsFeedback: an atomic cancel flag the caller flips from any thread,
// and progress/log callbacks the engine calls from its own thread between batches.
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace cw {

enum class LogLevel { Debug, Info, Warning, Error };

// A progress update. `fraction` in [0, 1] (or < 0 when unknown); `values` carries named
// numbers for live displays (epoch, step, loss, cells_per_s, eta_s, device_memory_gib ...).
struct Progress {
  double fraction = -1.0;
  std::string stage;
  std::map<std::string, double> values;
};

class Feedback {
 public:
  using ProgressCallback = std::function<void(const Progress&)>;
  using LogCallback = std::function<void(LogLevel, const std::string&)>;

  Feedback() = default;
  Feedback(const Feedback&) = delete;
  Feedback& operator=(const Feedback&) = delete;

  // Any thread. Engine code notices at its next poll point.
  void cancel() noexcept { canceled_.store(true, std::memory_order_relaxed); }
  bool isCanceled() const noexcept { return canceled_.load(std::memory_order_relaxed); }
  // Poll point: throws cw::Canceled when cancel() was called.
  void throwIfCanceled() const;

  // Set before the work starts; not thread-safe against concurrent reporting.
  void setProgressCallback(ProgressCallback cb) { onProgress_ = std::move(cb); }
  void setLogCallback(LogCallback cb) { onLog_ = std::move(cb); }

  // Engine side.
  void setProgress(double fraction, const std::string& stage = {});
  void report(const Progress& progress);
  void log(LogLevel level, const std::string& message);
  void info(const std::string& message) { log(LogLevel::Info, message); }
  void warning(const std::string& message) { log(LogLevel::Warning, message); }

  double lastFraction() const noexcept { return lastFraction_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> canceled_{false};
  std::atomic<double> lastFraction_{0.0};
  ProgressCallback onProgress_;
  LogCallback onLog_;
};

// Convenience for engine functions that accept an optional Feedback*.
inline void pollCancel(const Feedback* feedback) {
  if (feedback) feedback->throwIfCanceled();
}

}  // namespace cw
