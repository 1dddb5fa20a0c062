#include "cellwright/ui/main_window.h"

#include <QApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTableView>
#include <QVBoxLayout>

#include "cellwright/compute/device.h"
#include "cellwright/core/version.h"
#include "cellwright/io/readers.h"
#include "cellwright/ui/dataset_panel.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/jobs_panel.h"
#include "cellwright/ui/log_panel.h"
#include "cellwright/ui/obs_table_model.h"

namespace cw::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setObjectName(QStringLiteral("mainWindow"));
  setWindowTitle(QStringLiteral("Cellwright"));
  jobs_ = new JobQueue(this);
  document_ = new Document(this);

  obsModel_ = new ObsTableModel(this);
  obsProxy_ = new QSortFilterProxyModel(this);
  obsProxy_->setSourceModel(obsModel_);
  obsProxy_->setFilterKeyColumn(-1);  // filter across all annotation columns
  obsProxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
  auto* central = new QWidget(this);
  filterEdit_ = new QLineEdit(central);
  filterEdit_->setPlaceholderText(tr("Filter cells (any annotation)…"));
  connect(filterEdit_, &QLineEdit::textChanged, obsProxy_, &QSortFilterProxyModel::setFilterFixedString);
  cellTable_ = new QTableView(central);
  cellTable_->setObjectName(QStringLiteral("cellTable"));
  cellTable_->setModel(obsProxy_);
  cellTable_->setSortingEnabled(true);
  cellTable_->sortByColumn(-1, Qt::AscendingOrder);  // file order until the user sorts
  auto* layout = new QVBoxLayout(central);
  layout->addWidget(filterEdit_);
  layout->addWidget(cellTable_);
  setCentralWidget(central);

  buildDocks();
  buildMenus();

  deviceLabel_ = new QLabel(QString::fromStdString(cw::computeDeviceSummary()), this);
  deviceLabel_->setObjectName(QStringLiteral("deviceLabel"));
  datasetLabel_ = new QLabel(tr("No dataset"), this);
  statusBar()->addWidget(datasetLabel_, 1);
  statusBar()->addPermanentWidget(deviceLabel_);

  connect(document_, &Document::datasetChanged, this, &MainWindow::onDatasetChanged);
  connect(jobs_, &JobQueue::jobLog, this, [this](JobId id, int level, const QString& message) {
    logPanel_->append(level, jobs_->title(id) + QStringLiteral(": ") + message);
  });
  connect(jobs_, &JobQueue::jobFailed, this, [this](JobId, const QString& message) {
    logPanel_->append(3, message);
    statusBar()->showMessage(message, 10000);
  });
  resize(1280, 800);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildDocks() {
  auto dock = [this](const QString& title, const QString& name, QWidget* content, Qt::DockWidgetArea area) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);
    d->setWidget(content);
    addDockWidget(area, d);
    return d;
  };
  datasetPanel_ = new DatasetPanel(document_, this);
  jobsPanel_ = new JobsPanel(jobs_, this);
  logPanel_ = new LogPanel(this);
  dock(tr("Dataset"), QStringLiteral("datasetDock"), datasetPanel_, Qt::LeftDockWidgetArea);
  auto* jobsDock = dock(tr("Jobs"), QStringLiteral("jobsDock"), jobsPanel_, Qt::BottomDockWidgetArea);
  auto* logDock = dock(tr("Log"), QStringLiteral("logDock"), logPanel_, Qt::BottomDockWidgetArea);
  tabifyDockWidget(jobsDock, logDock);
  jobsDock->raise();
  resizeDocks({jobsDock}, {180}, Qt::Vertical);
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  auto* open = file->addAction(tr("&Open…"), this, &MainWindow::chooseAndOpen);
  open->setShortcut(QKeySequence::Open);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  auto* view = menuBar()->addMenu(tr("&View"));
  for (auto* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());

  auto* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About Cellwright"), this, [this] {
    QMessageBox::about(this, tr("About Cellwright"),
                       tr("Cellwright %1\nSingle-cell foundation models, natively.\nCompute: %2")
                           .arg(QString::fromLatin1(cw::kVersion), deviceLabel_->text()));
  });
}

void MainWindow::chooseAndOpen() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open dataset"), QString(),
      tr("Single-cell data (*.h5ad *.h5 *.mtx *.mtx.gz *.csv *.tsv *.txt);;All files (*)"));
  if (!path.isEmpty()) openDataset(path);
}

void MainWindow::openDataset(const QString& path, std::function<void(bool, const QString&)> done) {
  const std::string file = path.toStdString();
  statusBar()->showMessage(tr("Opening %1…").arg(QFileInfo(path).fileName()));
  const JobId id = jobs_->enqueue(
      tr("Open %1").arg(QFileInfo(path).fileName()),
      [file](cw::Feedback& feedback) -> std::any {
        auto result = cw::io::readDataset(file, {}, &feedback);
        for (const auto& w : result.warnings) feedback.warning(w);
        return std::make_shared<const cw::Dataset>(std::move(result.dataset));
      },
      [this, path, done](std::any& result) {
        document_->setDataset(std::any_cast<std::shared_ptr<const cw::Dataset>>(result), path, false);
        logPanel_->append(1, tr("Opened %1").arg(path));
        if (done) done(true, QString());
      });
  if (done) {
    // Failure or cancel of this job reports back too; one-shot connections.
    auto failed = std::make_shared<QMetaObject::Connection>();
    auto canceled = std::make_shared<QMetaObject::Connection>();
    *failed = connect(jobs_, &JobQueue::jobFailed, this, [=](JobId jobId, const QString& message) {
      if (jobId != id) return;
      disconnect(*failed);
      disconnect(*canceled);
      done(false, message);
    });
    *canceled = connect(jobs_, &JobQueue::jobCanceled, this, [=](JobId jobId) {
      if (jobId != id) return;
      disconnect(*failed);
      disconnect(*canceled);
      done(false, tr("opening was canceled"));
    });
  }
}

void MainWindow::onDatasetChanged() {
  auto dataset = document_->dataset();
  obsModel_->setDataset(dataset);
  if (!dataset) {
    datasetLabel_->setText(tr("No dataset"));
    return;
  }
  setWindowTitle(QStringLiteral("Cellwright — %1").arg(QFileInfo(document_->path()).fileName()));
  datasetLabel_->setText(tr("%1 cells × %2 genes").arg(dataset->nObs()).arg(dataset->nVars()));
  statusBar()->clearMessage();
  cellTable_->resizeColumnsToContents();
}

}  // namespace cw::ui
