#pragma once
// Lives on the engine thread and runs jobs one at a time, in the order they were queued.
// Every exception a job throws becomes a `failed` signal with a message a biologist can act
// on; none crosses into the event loop.
#include <QObject>
#include <QVariantMap>

#include <chrono>

#include "cellwright/ui/job.h"

namespace cw::ui {

class EngineWorker : public QObject {
  Q_OBJECT
 public:
  // Progress signals are throttled to at most one per `progressInterval` per job (the final
  // 100% and stage changes always pass) so a fast loop cannot flood the GUI thread.
  explicit EngineWorker(std::chrono::milliseconds progressInterval = std::chrono::milliseconds(50));

  // Runs `job` now, on the calling (engine) thread. Called through a queued invocation.
  void run(const JobPtr& job);

 Q_SIGNALS:
  void started(cw::ui::JobId id);
  void progress(cw::ui::JobId id, double fraction, const QString& stage, const QVariantMap& values);
  void logLine(cw::ui::JobId id, int level, const QString& message);
  void finished(cw::ui::JobId id);
  void failed(cw::ui::JobId id, const QString& message);
  void canceled(cw::ui::JobId id);

 private:
  std::chrono::milliseconds progressInterval_;
};

}  // namespace cw::ui
