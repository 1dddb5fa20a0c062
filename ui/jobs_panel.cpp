#include "cellwright/ui/jobs_panel.h"

#include <QHeaderView>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "cellwright/ui/job_queue.h"

namespace cw::ui {

namespace {
enum Column { TitleColumn, StateColumn, ProgressColumn, CancelColumn };
}

JobsPanel::JobsPanel(JobQueue* queue, QWidget* parent) : QWidget(parent), queue_(queue) {
  tree_ = new QTreeWidget(this);
  tree_->setObjectName(QStringLiteral("jobsTree"));
  tree_->setHeaderLabels({tr("Job"), tr("State"), tr("Progress"), QString()});
  tree_->setRootIsDecorated(false);
  tree_->header()->setStretchLastSection(false);
  tree_->header()->setSectionResizeMode(TitleColumn, QHeaderView::Stretch);
  tree_->header()->setSectionResizeMode(StateColumn, QHeaderView::ResizeToContents);
  tree_->header()->setSectionResizeMode(CancelColumn, QHeaderView::ResizeToContents);
  tree_->setColumnWidth(ProgressColumn, 200);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(tree_);

  connect(queue_, &JobQueue::jobQueued, this, &JobsPanel::addJob);
  connect(queue_, &JobQueue::jobStarted, this, [this](JobId id) { setState(id, tr("running"), false); });
  connect(queue_, &JobQueue::jobProgress, this, [this](JobId id, double fraction, const QString& stage, const QVariantMap&) {
    auto* row = rows_.value(id);
    if (!row) return;
    auto* bar = qobject_cast<QProgressBar*>(tree_->itemWidget(row, ProgressColumn));
    if (bar && fraction >= 0) bar->setValue(static_cast<int>(fraction * 1000));
    if (bar && fraction < 0) bar->setRange(0, 0);  // busy indicator when the engine cannot tell
    if (!stage.isEmpty()) row->setText(StateColumn, stage);
  });
  connect(queue_, &JobQueue::jobFinished, this, [this](JobId id) { setState(id, tr("done"), true); });
  connect(queue_, &JobQueue::jobFailed, this, [this](JobId id, const QString& message) {
    setState(id, tr("failed"), true);
    if (auto* row = rows_.value(id)) row->setToolTip(StateColumn, message);
  });
  connect(queue_, &JobQueue::jobCanceled, this, [this](JobId id) { setState(id, tr("canceled"), true); });
}

void JobsPanel::addJob(JobId id, const QString& title) {
  auto* row = new QTreeWidgetItem(tree_, {title, tr("queued")});
  rows_.insert(id, row);
  auto* bar = new QProgressBar(tree_);
  bar->setRange(0, 1000);
  bar->setValue(0);
  bar->setTextVisible(false);
  tree_->setItemWidget(row, ProgressColumn, bar);
  auto* cancel = new QPushButton(tr("Cancel"), tree_);
  cancel->setObjectName(QStringLiteral("cancelJob%1").arg(id));
  connect(cancel, &QPushButton::clicked, this, [this, id] { queue_->cancel(id); });
  tree_->setItemWidget(row, CancelColumn, cancel);
}

void JobsPanel::setState(JobId id, const QString& state, bool ended) {
  auto* row = rows_.value(id);
  if (!row) return;
  row->setText(StateColumn, state);
  if (!ended) return;
  if (auto* bar = qobject_cast<QProgressBar*>(tree_->itemWidget(row, ProgressColumn))) {
    bar->setRange(0, 1000);
    if (state == tr("done")) bar->setValue(1000);
  }
  if (auto* cancel = tree_->itemWidget(row, CancelColumn)) cancel->setEnabled(false);
}

}  // namespace cw::ui
