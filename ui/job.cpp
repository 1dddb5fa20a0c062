#include "cellwright/ui/job.h"

namespace cw::ui {

QString jobStateName(JobState state) {
  switch (state) {
    case JobState::Queued: return QStringLiteral("queued");
    case JobState::Running: return QStringLiteral("running");
    case JobState::Finished: return QStringLiteral("finished");
    case JobState::Failed: return QStringLiteral("failed");
    case JobState::Canceled: return QStringLiteral("canceled");
  }
  return {};
}

}  // namespace cw::ui
