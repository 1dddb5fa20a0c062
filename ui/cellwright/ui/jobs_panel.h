#pragma once
// Dock contents: one row per job with its state, a progress bar and a Cancel button.
#include <QHash>
#include <QWidget>

#include "cellwright/ui/job.h"

class QTreeWidget;
class QTreeWidgetItem;

namespace cw::ui {

class JobQueue;

class JobsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobsPanel(JobQueue* queue, QWidget* parent = nullptr);
  QTreeWidget* tree() const { return tree_; }

 private:
  void addJob(JobId id, const QString& title);
  void setState(JobId id, const QString& state, bool ended);
  JobQueue* queue_;
  QTreeWidget* tree_;
  QHash<JobId, QTreeWidgetItem*> rows_;
};

}  // namespace cw::ui
