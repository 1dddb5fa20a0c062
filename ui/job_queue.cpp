#include "cellwright/ui/job_queue.h"

#include <QMetaObject>

#include "cellwright/ui/engine_worker.h"

namespace cw::ui {

JobQueue::JobQueue(QObject* parent) : QObject(parent) {
  qRegisterMetaType<cw::ui::JobId>("cw::ui::JobId");
  thread_ = new QThread(this);
  thread_->setObjectName(QStringLiteral("cellwright-engine"));
  worker_ = new EngineWorker();
  worker_->moveToThread(thread_);

  connect(worker_, &EngineWorker::started, this, &JobQueue::jobStarted);
  connect(worker_, &EngineWorker::progress, this, &JobQueue::jobProgress);
  connect(worker_, &EngineWorker::logLine, this, &JobQueue::jobLog);
  connect(worker_, &EngineWorker::finished, this, &JobQueue::onWorkerFinished);
  connect(worker_, &EngineWorker::failed, this, [this](JobId id, const QString& message) {
    forget(id);
    Q_EMIT jobFailed(id, message);
    if (jobs_.isEmpty()) Q_EMIT allJobsDone();
  });
  connect(worker_, &EngineWorker::canceled, this, [this](JobId id) {
    forget(id);
    Q_EMIT jobCanceled(id);
    if (jobs_.isEmpty()) Q_EMIT allJobsDone();
  });
  thread_->start();
}

JobQueue::~JobQueue() {
  // Stop relaying first: nothing may reach a half-destroyed queue or run a continuation.
  worker_->disconnect(this);
  cancelAll();
  thread_->quit();
  thread_->wait();
  delete worker_;
}

JobId JobQueue::enqueue(const QString& title, JobFunction work, JobContinuation onFinished) {
  auto job = std::make_shared<Job>();
  job->id = nextId_++;
  job->title = title;
  job->work = std::move(work);
  job->onFinished = std::move(onFinished);
  jobs_.insert(job->id, job);
  Q_EMIT jobQueued(job->id, title);
  EngineWorker* worker = worker_;
  QMetaObject::invokeMethod(worker, [worker, job] { worker->run(job); }, Qt::QueuedConnection);
  return job->id;
}

bool JobQueue::cancel(JobId id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  it.value()->feedback.cancel();
  return true;
}

void JobQueue::cancelAll() {
  for (const auto& job : std::as_const(jobs_)) job->feedback.cancel();
}

QString JobQueue::title(JobId id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? QString() : it.value()->title;
}

void JobQueue::onWorkerFinished(JobId id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  JobPtr job = it.value();
  forget(id);
  if (job->onFinished) {
    try {
      job->onFinished(job->result);
    } catch (const std::exception& e) {
      Q_EMIT jobFailed(id, QString::fromUtf8(e.what()));
      if (jobs_.isEmpty()) Q_EMIT allJobsDone();
      return;
    }
  }
  Q_EMIT jobFinished(id);
  if (jobs_.isEmpty()) Q_EMIT allJobsDone();
}

void JobQueue::forget(JobId id) { jobs_.remove(id); }

}  // namespace cw::ui
