#pragma once
// The GUI's door to the engine: owns the engine thread and its EngineWorker, queues jobs,
// relays their signals to the GUI thread, and cancels. Destroying the queue cancels every
// job and joins the engine thread, so no job outlives its owner (as Qt Creator's Async).
#include <QHash>
#include <QObject>
#include <QThread>
#include <QVariantMap>

#include "cellwright/ui/job.h"

namespace cw::ui {

class EngineWorker;

class JobQueue : public QObject {
  Q_OBJECT
 public:
  explicit JobQueue(QObject* parent = nullptr);
  ~JobQueue() override;

  // Queues `work` behind the jobs already queued. `onFinished` runs on the GUI thread with
  // the job's result before jobFinished is emitted.
  JobId enqueue(const QString& title, JobFunction work, JobContinuation onFinished = {});
  // Flips the job's cancel flag (any state). Returns false for an unknown or ended job.
  bool cancel(JobId id);
  void cancelAll();

  QThread* engineThread() const { return thread_; }
  bool isBusy() const { return !jobs_.isEmpty(); }
  int activeCount() const { return static_cast<int>(jobs_.size()); }
  QString title(JobId id) const;

 Q_SIGNALS:
  void jobQueued(cw::ui::JobId id, const QString& title);
  void jobStarted(cw::ui::JobId id);
  void jobProgress(cw::ui::JobId id, double fraction, const QString& stage, const QVariantMap& values);
  void jobLog(cw::ui::JobId id, int level, const QString& message);
  void jobFinished(cw::ui::JobId id);
  void jobFailed(cw::ui::JobId id, const QString& message);
  void jobCanceled(cw::ui::JobId id);
  void allJobsDone();

 private:
  void onWorkerFinished(JobId id);
  void forget(JobId id);

  QThread* thread_ = nullptr;
  EngineWorker* worker_ = nullptr;
  QHash<JobId, JobPtr> jobs_;  // queued or running
  JobId nextId_ = 1;
};

}  // namespace cw::ui
