#include "cellwright/ui/engine_worker.h"

#include <exception>

#include "cellwright/core/errors.h"

namespace cw::ui {

EngineWorker::EngineWorker(std::chrono::milliseconds progressInterval) : progressInterval_(progressInterval) {}

// Torch errors carry a C++ backtrace after the first line; the user needs the first line.
static QString firstLine(const char* what) {
  QString message = QString::fromUtf8(what);
  const int newline = message.indexOf(QLatin1Char('\n'));
  return newline < 0 ? message : message.left(newline);
}

void EngineWorker::run(const JobPtr& job) {
  if (job->feedback.isCanceled()) {  // canceled while still queued
    job->state = JobState::Canceled;
    Q_EMIT canceled(job->id);
    return;
  }
  job->state = JobState::Running;
  Q_EMIT started(job->id);

  using Clock = std::chrono::steady_clock;
  Clock::time_point lastEmit{};
  std::string lastStage;
  const JobId id = job->id;
  job->feedback.setProgressCallback([&, id](const cw::Progress& p) {
    const auto now = Clock::now();
    const bool important = p.fraction >= 1.0 || p.stage != lastStage;
    if (!important && now - lastEmit < progressInterval_) return;
    lastEmit = now;
    lastStage = p.stage;
    QVariantMap values;
    for (const auto& [key, value] : p.values) values.insert(QString::fromStdString(key), value);
    Q_EMIT progress(id, p.fraction, QString::fromStdString(p.stage), values);
  });
  job->feedback.setLogCallback([this, id](cw::LogLevel level, const std::string& message) {
    Q_EMIT logLine(id, static_cast<int>(level), QString::fromStdString(message));
  });

  try {
    job->result = job->work(job->feedback);
    job->state = JobState::Finished;
    Q_EMIT finished(id);
  } catch (const cw::Canceled&) {
    job->state = JobState::Canceled;
    Q_EMIT canceled(id);
  } catch (const std::exception& e) {
    job->state = JobState::Failed;
    Q_EMIT failed(id, firstLine(e.what()));
  } catch (...) {
    job->state = JobState::Failed;
    Q_EMIT failed(id, QStringLiteral("unexpected failure in the engine"));
  }
  // The callbacks captured this frame's locals: detach them before returning.
  job->feedback.setProgressCallback({});
  job->feedback.setLogCallback({});
}

}  // namespace cw::ui
