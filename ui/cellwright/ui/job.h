#pragma once
// A unit of engine work queued from the GUI: a title, a function that runs on the engine
// thread with a cw::Feedback, and an optional continuation that receives its result on the
// GUI thread.
#include <QString>

#include <any>
#include <atomic>
#include <functional>
#include <memory>

#include "cellwright/core/feedback.h"

namespace cw::ui {

using JobId = quint64;
// Runs on the engine thread. Poll feedback.throwIfCanceled() between batches.
using JobFunction = std::function<std::any(cw::Feedback& feedback)>;
// Runs on the GUI thread after the job finished successfully.
using JobContinuation = std::function<void(std::any& result)>;

enum class JobState { Queued, Running, Finished, Failed, Canceled };

struct Job {
  JobId id = 0;
  QString title;
  JobFunction work;
  JobContinuation onFinished;
  cw::Feedback feedback;  // its cancel flag is flipped directly from the GUI thread
  std::any result;
  std::atomic<JobState> state{JobState::Queued};
};

using JobPtr = std::shared_ptr<Job>;

QString jobStateName(JobState state);

}  // namespace cw::ui
