#include "cellwright/ui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QSettings>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QRegularExpression>
#include <QSet>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "cellwright/compute/device.h"
#include "cellwright/core/version.h"
#include "cellwright/io/readers.h"
#include "cellwright/analysis/de.h"
#include "cellwright/ui/analysis_steps.h"
#include "cellwright/ui/dataset_panel.h"
#include "cellwright/ui/de_window.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/embedding_view.h"
#include "cellwright/ui/evaluation_view.h"
#include "cellwright/ui/export.h"
#include "cellwright/ui/paga_view.h"
#include "cellwright/ui/parameters_dialog.h"
#include "cellwright/ui/preprocess_dialog.h"
#include "cellwright/ui/training_panel.h"
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
  embeddingView_ = new EmbeddingView(document_, jobs_, this);
  views_ = new QTabWidget(this);
  views_->setObjectName(QStringLiteral("views"));
  views_->addTab(central, tr("Cells"));
  views_->addTab(embeddingView_, tr("Embedding"));
  pagaView_ = new PagaView(document_, this);
  views_->addTab(pagaView_, tr("PAGA"));
  connect(pagaView_, &PagaView::groupCellsRequested, this, [this](const std::vector<int64_t>& cells) {
    embeddingView_->setSelection(cells);
    showView(embeddingView_);
  });
  evaluationView_ = new EvaluationView(this);
  views_->addTab(evaluationView_, tr("Evaluation"));
  connect(evaluationView_, &EvaluationView::confusionCellClicked, this, &MainWindow::selectConfusionCell);
  setCentralWidget(views_);
  connect(embeddingView_, &EmbeddingView::saveSelectionRequested, this, &MainWindow::keepSelectionAsCategory);
  connect(embeddingView_, &EmbeddingView::differentialExpressionRequested, this, &MainWindow::compareSelection);

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
  trainingPanel_ = new TrainingPanel(document_, jobs_, this);
  auto* trainingDock = dock(tr("Training"), QStringLiteral("trainingDock"), trainingPanel_, Qt::RightDockWidgetArea);
  trainingDock->hide();  // View ▸ Training, or Analysis ▸ Train a classifier
  connect(trainingPanel_, &TrainingPanel::trainingFinished, this, [this](const TrainingOutcome& outcome) {
    openRun(outcome.runDir);
    embeddingView_->setColorBy(QStringLiteral("cw_pred"));
  });
  auto* jobsDock = dock(tr("Jobs"), QStringLiteral("jobsDock"), jobsPanel_, Qt::BottomDockWidgetArea);
  auto* logDock = dock(tr("Log"), QStringLiteral("logDock"), logPanel_, Qt::BottomDockWidgetArea);
  tabifyDockWidget(jobsDock, logDock);
  jobsDock->raise();
  resizeDocks({jobsDock}, {180}, Qt::Vertical);
}

void MainWindow::showTrainingPanel() {
  if (auto* d = findChild<QDockWidget*>(QStringLiteral("trainingDock"))) {
    d->show();
    d->raise();
    resizeDocks({d}, {440}, Qt::Horizontal);
  }
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  auto* open = file->addAction(tr("&Open…"), this, &MainWindow::chooseAndOpen);
  open->setShortcut(QKeySequence::Open);
  file->addAction(tr("Open &run…"), this, [this] {
    const QString run = QFileDialog::getExistingDirectory(this, tr("Open run folder"));
    if (!run.isEmpty()) openRun(run);
  });
  recentMenu_ = file->addMenu(tr("Open &recent"));
  updateRecentMenu();
  file->addSeparator();
  auto* save = file->addAction(tr("&Save dataset as…"), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save dataset"), document_->path(), tr("AnnData (*.h5ad)"));
    if (!path.isEmpty()) saveDataset(path);
  });
  save->setShortcut(QKeySequence::SaveAs);
  file->addAction(tr("Export view as &PNG…"), this, [this] {
    QWidget* view = views_->currentWidget();
    bool ok = false;
    const QString size = QInputDialog::getText(this, tr("Export PNG"), tr("Size in pixels (width×height):"), QLineEdit::Normal,
                                               QStringLiteral("%1x%2").arg(view->width() * 2).arg(view->height() * 2), &ok);
    const QStringList wh = size.split(QRegularExpression(QStringLiteral("[x×* ]")), Qt::SkipEmptyParts);
    if (!ok || wh.size() != 2) return;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export PNG"), QStringLiteral("view.png"), tr("PNG image (*.png)"));
    if (!path.isEmpty() && !exportPng(view, path, QSize(wh[0].toInt(), wh[1].toInt())))
      statusBar()->showMessage(tr("Could not write %1").arg(path), 8000);
  });
  file->addAction(tr("Export view as S&VG…"), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export SVG"), QStringLiteral("view.svg"), tr("SVG image (*.svg)"));
    if (!path.isEmpty() && !exportSvg(views_->currentWidget(), path)) statusBar()->showMessage(tr("Could not write %1").arg(path), 8000);
  });
  file->addAction(tr("Export cell table as &CSV…"), this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export cells"), QStringLiteral("cells.csv"), tr("CSV (*.csv)"));
    if (!path.isEmpty() && !exportCsv(obsProxy_, path)) statusBar()->showMessage(tr("Could not write %1").arg(path), 8000);
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  auto* analysis = menuBar()->addMenu(tr("&Analysis"));
  analysis->addAction(tr("Embed and cluster (PCA, neighbours, UMAP, Leiden)"), this, [this] {
    enqueueEmbedAndCluster(jobs_, document_, [this] {
      embeddingView_->setColorBy(QStringLiteral("leiden"));
      showView(embeddingView_);
    });
  });

  analysis->addSeparator();
  analysis->addAction(tr("Preprocess (QC filters, normalise, HVG)…"), this, [this] {
    if (document_->isEmpty()) return;
    auto* dialog = new PreprocessDialog(document_, jobs_, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
  });
  analysis->addAction(tr("Differential expression…"), this, [this] {
    if (!document_->isEmpty()) openDifferentialExpression();
  });
  // One step at a time, parameters pre-filled with scanpy's defaults (or the last used).
  auto step = [this, analysis](const QString& title, const QString& group, auto addFields, auto makeEdit, std::function<void()> then) {
    analysis->addAction(title + QStringLiteral("…"), this, [=, this] {
      ParametersDialog dialog(title, group, this);
      addFields(dialog);
      dialog.restore();
      if (dialog.exec() == QDialog::Accepted) enqueueDatasetEdit(jobs_, document_, title, makeEdit(dialog), then);
    });
  };
  step(tr("PCA"), QStringLiteral("analysis/pca"), addPcaFields, [](const ParametersDialog& d) { return pcaStep(pcaOptionsFrom(d)); }, {});
  step(tr("Neighbours"), QStringLiteral("analysis/neighbors"), addNeighborsFields,
       [](const ParametersDialog& d) { return neighborsStep(neighborsOptionsFrom(d)); }, {});
  step(tr("UMAP"), QStringLiteral("analysis/umap"), addUmapFields, [](const ParametersDialog& d) { return umapStep(umapOptionsFrom(d)); },
       [this] { showView(embeddingView_); });
  step(tr("Leiden clustering"), QStringLiteral("analysis/leiden"), addLeidenFields,
       [](const ParametersDialog& d) { return leidenStep(leidenOptionsFrom(d)); }, [this] { embeddingView_->setColorBy(QStringLiteral("leiden")); });
  analysis->addAction(tr("PAGA between Leiden clusters"), this, [this] {
    enqueueDatasetEdit(jobs_, document_, tr("PAGA"), pagaStep({}), [this] { showView(pagaView_); });
  });

  analysis->addSeparator();
  analysis->addAction(tr("Train a classifier…"), this, &MainWindow::showTrainingPanel);

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
        rememberRecent(path);
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

void MainWindow::showView(QWidget* view) { views_->setCurrentWidget(view); }

void MainWindow::saveDataset(const QString& path, std::function<void(bool)> done) {
  auto dataset = document_->dataset();
  if (!dataset) return;
  const std::string file = path.toStdString();
  const JobId id = jobs_->enqueue(
      tr("Save %1").arg(QFileInfo(path).fileName()),
      [dataset, file](cw::Feedback& feedback) -> std::any {
        cw::io::writeH5ad(*dataset, file, {}, &feedback);
        return {};
      },
      [this, path, dataset, done](std::any&) {
        if (document_->dataset() == dataset) document_->markSaved(path);
        logPanel_->append(1, tr("Saved %1").arg(path));
        if (done) done(true);
      });
  if (done) {
    auto failed = std::make_shared<QMetaObject::Connection>();
    *failed = connect(jobs_, &JobQueue::jobFailed, this, [=](JobId jobId, const QString&) {
      if (jobId != id) return;
      disconnect(*failed);
      done(false);
    });
  }
}

void MainWindow::rememberRecent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value(QStringLiteral("files/recent")).toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > 8) recent.removeLast();
  settings.setValue(QStringLiteral("files/recent"), recent);
  updateRecentMenu();
}

void MainWindow::updateRecentMenu() {
  if (!recentMenu_) return;
  recentMenu_->clear();
  const QStringList recent = QSettings().value(QStringLiteral("files/recent")).toStringList();
  for (const QString& path : recent) recentMenu_->addAction(QFileInfo(path).fileName(), this, [this, path] { openDataset(path); })->setToolTip(path);
  recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (document_->isModified()) {
    const auto answer = QMessageBox::question(
        this, tr("Unsaved annotations"),
        tr("The dataset has analysis results or annotations that are not saved. Save them before closing?"),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel) return event->ignore();
    if (answer == QMessageBox::Save) {
      const QString path = QFileDialog::getSaveFileName(this, tr("Save dataset"), document_->path(), tr("AnnData (*.h5ad)"));
      if (path.isEmpty()) return event->ignore();
      event->ignore();
      saveDataset(path, [this](bool ok) {
        if (ok) close();
      });
      return;
    }
  }
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  event->accept();
}

void MainWindow::restoreLayout() {
  QSettings settings;
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

bool MainWindow::openRun(const QString& run, QString* error) {
  QString message;
  if (!evaluationView_->loadRun(run, &message)) {
    logPanel_->append(3, message);
    if (error) *error = message;
    return false;
  }
  logPanel_->append(1, tr("Opened run %1").arg(run));
  showView(evaluationView_);
  return true;
}

void MainWindow::selectConfusionCell(const QString& truth, const QString& predicted) {
  const QStringList names = evaluationView_->metrics().cellsWith(truth, predicted);
  auto dataset = document_->dataset();
  if (!dataset || names.isEmpty()) {
    statusBar()->showMessage(tr("%1 test cells are %2 predicted as %3; open their dataset to see them").arg(names.size()).arg(truth, predicted), 8000);
    return;
  }
  const QSet<QString> wanted(names.begin(), names.end());
  std::vector<int64_t> cells;
  for (size_t i = 0; i < dataset->obs.index.size(); ++i)
    if (wanted.contains(QString::fromStdString(dataset->obs.index[i]))) cells.push_back(static_cast<int64_t>(i));
  embeddingView_->setSelection(cells);
  statusBar()->showMessage(tr("Selected %1 cells: truth %2, predicted %3").arg(cells.size()).arg(truth, predicted), 8000);
  showView(embeddingView_);
}

void MainWindow::keepSelectionAsCategory(const std::vector<int64_t>& cells) {
  auto dataset = document_->dataset();
  if (!dataset || cells.empty()) return;
  QString name = QStringLiteral("selection");
  for (int i = 2; dataset->obs.has(name.toStdString()); ++i) name = QStringLiteral("selection_%1").arg(i);
  bool ok = false;
  name = QInputDialog::getText(this, tr("Keep selection"), tr("Name of the new annotation:"), QLineEdit::Normal, name, &ok).trimmed();
  if (!ok || name.isEmpty()) return;
  enqueueDatasetEdit(jobs_, document_, tr("Annotate %1 cells").arg(cells.size()), selectionCategoryStep(name.toStdString(), cells),
                     [this, name] { embeddingView_->setColorBy(name); });
}

void MainWindow::compareSelection(const std::vector<int64_t>& cells) {
  if (document_->isEmpty() || cells.empty()) return;
  DeWindow* window = openDifferentialExpression();
  window->setSelections(cells);
  window->run();
}

DeWindow* MainWindow::openDifferentialExpression() {
  auto* window = new DeWindow(document_, jobs_, this);
  window->setWindowFlag(Qt::Window);
  window->setAttribute(Qt::WA_DeleteOnClose);
  window->setSelectionSource([this] { return embeddingView_->selection(); });
  window->show();
  return window;
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
