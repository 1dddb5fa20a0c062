#include "cellwright/ui/application.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QSettings>
#include <QDoubleSpinBox>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>

#include "cellwright/analysis/grouping.h"
#include "cellwright/compute/device.h"
#include "cellwright/core/version.h"
#include "cellwright/ui/analysis_steps.h"
#include "cellwright/ui/de_window.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/embedding_view.h"
#include "cellwright/ui/evaluation_view.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/main_window.h"
#include "cellwright/ui/paga_view.h"
#include "cellwright/ui/preprocess_dialog.h"
#include "cellwright/ui/training_panel.h"

namespace cw::ui {

namespace {

struct GuiOptions {
  QString open, run, view = QStringLiteral("table"), colorBy, screenshot, group, train = QStringLiteral("mlp");
  int epochs = 10;
  bool viewOnly = false;
  bool analyse = false;
};

GuiOptions parseOptions(QApplication& app) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Cellwright: single-cell foundation models"));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption open(QStringLiteral("open"), QStringLiteral("Dataset to open."), QStringLiteral("FILE"));
  QCommandLineOption run(QStringLiteral("run"), QStringLiteral("Run folder to show."), QStringLiteral("RUN"));
  QCommandLineOption view(QStringLiteral("view"), QStringLiteral("View to show: table, umap, paga, confusion, roc; training (fine-tunes --train "
                                                         "on the labels in --color-by, default cell_type); or a dialog: preprocess, "
                                                         "de (dot plot) or violin (a group of --color-by against the rest)."),
                          QStringLiteral("VIEW"), QStringLiteral("table"));
  QCommandLineOption colorBy(QStringLiteral("color-by"), QStringLiteral("Annotation to colour cells by."), QStringLiteral("COL"));
  QCommandLineOption screenshot(QStringLiteral("screenshot"), QStringLiteral("Write a screenshot and exit."), QStringLiteral("OUT.png"));
  QCommandLineOption viewOnly(QStringLiteral("view-only"), QStringLiteral("Screenshot only the view, not the window."));
  QCommandLineOption analyse(QStringLiteral("analyse"),
                             QStringLiteral("After opening: normalise, PCA, neighbours, UMAP, Leiden and PAGA with scanpy's defaults."));
  QCommandLineOption group(QStringLiteral("group"), QStringLiteral("With --view de or violin: the group tested (default: the first)."),
                           QStringLiteral("GROUP"));
  QCommandLineOption train(QStringLiteral("train"), QStringLiteral("With --view training: the model fine-tuned (default mlp)."),
                           QStringLiteral("MODEL"), QStringLiteral("mlp"));
  QCommandLineOption epochs(QStringLiteral("epochs"), QStringLiteral("With --view training: epochs (default 10)."), QStringLiteral("N"),
                            QStringLiteral("10"));
  parser.addOptions({open, run, view, colorBy, screenshot, viewOnly, analyse, group, train, epochs});
  parser.process(app);  // exits 0 on --help/--version, 1 on unknown options
  GuiOptions o;
  o.open = parser.value(open);
  o.run = parser.value(run);
  o.view = parser.value(view);
  o.colorBy = parser.value(colorBy);
  o.screenshot = parser.value(screenshot);
  o.viewOnly = parser.isSet(viewOnly);
  o.analyse = parser.isSet(analyse);
  o.group = parser.value(group);
  o.train = parser.value(train);
  o.epochs = std::max(1, parser.value(epochs).toInt());
  return o;
}

void fail(const QString& message) {
  std::fprintf(stderr, "cellwright: %s\n", qPrintable(message));
  QCoreApplication::exit(1);
}

// The widget that shows `view` (brought to the front), or null with `error` set.
QWidget* showRequestedView(MainWindow& window, const GuiOptions& options, QString& error) {
  if (options.view == QStringLiteral("table")) {
    window.showView(window.cellTable()->parentWidget());
    return window.cellTable();
  }
  if (options.view == QStringLiteral("umap") || options.view == QStringLiteral("embedding") ||
      options.view.startsWith(QStringLiteral("X_")) || window.embeddingView()->embeddingKeys().contains(QStringLiteral("X_") + options.view)) {
    EmbeddingView* view = window.embeddingView();
    const QString key = options.view == QStringLiteral("embedding") ? view->embedding() : options.view;
    if (key.isEmpty() || !view->setEmbedding(key)) {
      error = QStringLiteral("the dataset has no embedding '%1' (obsm keys: %2)").arg(key, view->embeddingKeys().join(QStringLiteral(", ")));
      return nullptr;
    }
    window.showView(view);
    return view;
  }
  if (options.view == QStringLiteral("paga")) {
    if (!window.pagaView()->hasGraph()) {
      error = QStringLiteral("the dataset has no PAGA graph (uns['paga'])");
      return nullptr;
    }
    window.showView(window.pagaView());
    return window.pagaView();
  }
  if (options.view == QStringLiteral("confusion") || options.view == QStringLiteral("roc")) {
    if (options.run.isEmpty()) {
      error = QStringLiteral("--view %1 needs --run RUN").arg(options.view);
      return nullptr;
    }
    if (!window.openRun(options.run, &error)) return nullptr;
    EvaluationView* view = window.evaluationView();
    view->showPage(options.view);
    return view->page(options.view);
  }
  error = QStringLiteral("view '%1' is not available in this build").arg(options.view);
  return nullptr;
}

// Saves the requested view; exits the event loop with the outcome.
void saveScreenshot(MainWindow& window, QWidget* view, const GuiOptions& options) {
  QWidget* target = options.viewOnly ? view : &window;
  const QImage image = target->grab().toImage();
  if (image.isNull() || !image.save(options.screenshot)) return fail(QStringLiteral("could not write %1").arg(options.screenshot));
  QCoreApplication::exit(0);
}

// The dialogs' screenshots: the whole dialog, or with --view-only its plots.
void saveDialogScreenshot(QWidget* dialog, QWidget* plots, const GuiOptions& options) {
  const QImage image = (options.viewOnly ? plots : dialog)->grab().toImage();
  if (image.isNull() || !image.save(options.screenshot)) return fail(QStringLiteral("could not write %1").arg(options.screenshot));
  QCoreApplication::exit(0);
}

// --view training: fine-tunes --train through the training panel, as a click on Start would,
// into a temporary run folder; the screenshot is taken once the run has finished and its
// predictions fill the Evaluation tab.
void presentTraining(MainWindow& window, const GuiOptions& options) {
  TrainingPanel* panel = window.trainingPanel();
  window.showTrainingPanel();
  auto* runs = new QTemporaryDir();
  QObject::connect(&window, &QObject::destroyed, [runs] { delete runs; });
  TrainingRequest request = panel->request();
  request.model = options.train;
  request.label = options.colorBy.isEmpty() ? QStringLiteral("cell_type") : options.colorBy;
  request.epochs = options.epochs;
  request.device = QStringLiteral("cpu");
  request.runDir = runs->filePath(QStringLiteral("run"));
  panel->setRequest(request);
  if (!panel->start()) return fail(panel->statusText());
  if (options.screenshot.isEmpty()) return;
  QObject::connect(panel, &TrainingPanel::trainingFinished, &window, [&window, panel, options] {
    QTimer::singleShot(300, &window, [&window, panel, options] { saveScreenshot(window, panel, options); });
  });
}

// --view preprocess | de | violin | training: the dialog or panel, shown once its engine job has drawn it.
bool presentDialog(MainWindow& window, const GuiOptions& options) {
  const bool screenshot = !options.screenshot.isEmpty();
  if (screenshot)
    QObject::connect(window.jobQueue(), &JobQueue::jobFailed, &window, [](JobId, const QString& m) { fail(m); });
  if (options.view == QStringLiteral("training")) {
    presentTraining(window, options);
    return true;
  }
  if (options.view == QStringLiteral("preprocess")) {
    auto* dialog = new PreprocessDialog(window.document(), window.jobQueue(), &window);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (screenshot) {
      // The pictures show the thresholds of scanpy's pbmc3k tutorial drawn on the histograms.
      dialog->minGenesBox()->setValue(200);
      dialog->maxGenesBox()->setValue(2500);
      dialog->maxPctMitoBox()->setValue(5);
    }
    dialog->show();
    if (screenshot)
      QObject::connect(dialog, &PreprocessDialog::qcComputed, dialog, [dialog, options] {
        QTimer::singleShot(150, dialog, [dialog, options] { saveDialogScreenshot(dialog, dialog->findChild<QWidget*>(QStringLiteral("qcCharts")), options); });
      });
    return true;
  }
  if (options.view != QStringLiteral("de") && options.view != QStringLiteral("violin")) return false;
  auto dataset = window.document()->dataset();
  QString column = options.colorBy;
  if (column.isEmpty() && dataset)
    for (const auto& name : dataset->obs.columnOrder)
      if (dataset->obs.at(name).kind == cw::Column::Kind::Categorical) {
        column = QString::fromStdString(name);
        break;
      }
  DeWindow* de = window.openDifferentialExpression();
  QString group = options.group;
  if (group.isEmpty() && dataset && dataset->obs.has(column.toStdString())) {
    const auto names = cw::analysis::groupingOf(*dataset, column.toStdString()).names;
    if (!names.empty()) group = QString::fromStdString(names.front());
  }
  if (!de->setGroupComparison(column, group)) {
    const QString message = QStringLiteral("no annotation '%1' with a group '%2' to test").arg(column, group);
    if (screenshot) fail(message);
    else std::fprintf(stderr, "cellwright: %s\n", qPrintable(message));
    return true;
  }
  de->plotTabs()->setCurrentIndex(options.view == QStringLiteral("violin") ? 1 : 0);
  if (screenshot)
    QObject::connect(de, &DeWindow::plotsShown, de, [de, options] {
      QWidget* plot = options.view == QStringLiteral("violin") ? static_cast<QWidget*>(de->violinPlot()) : de->dotPlot();
      QTimer::singleShot(150, de, [de, plot, options] { saveDialogScreenshot(de, plot, options); });
    });
  de->run();
  return true;
}

// Shows the requested view and colouring; with --screenshot, saves it once drawn.
void presentView(MainWindow& window, const GuiOptions& options) {
  if (presentDialog(window, options)) return;
  QString error;
  QWidget* view = showRequestedView(window, options, error);
  if (!view) {
    if (!options.screenshot.isEmpty()) fail(error);
    else std::fprintf(stderr, "cellwright: %s\n", qPrintable(error));
    return;
  }
  // Let layouts settle and the first paint happen before grabbing.
  auto shoot = [&window, view, options] {
    if (!options.screenshot.isEmpty())
      QTimer::singleShot(150, &window, [&window, view, options] { saveScreenshot(window, view, options); });
  };
  auto* embedding = qobject_cast<EmbeddingView*>(view);
  if (embedding && !options.colorBy.isEmpty()) {
    // A gene's expression arrives from a job: wait for the colours to land.
    QObject::connect(embedding, &EmbeddingView::colorsApplied, &window, shoot, Qt::SingleShotConnection);
    if (!embedding->setColorBy(options.colorBy)) {
      const QString message = QStringLiteral("no annotation or gene named '%1'").arg(options.colorBy);
      if (!options.screenshot.isEmpty()) return fail(message);
      std::fprintf(stderr, "cellwright: %s\n", qPrintable(message));
    }
    return;
  }
  shoot();
}

}  // namespace

int runApplication(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("Cellwright"));
  QApplication::setOrganizationName(QStringLiteral("Cellwright"));
  QApplication::setApplicationVersion(QString::fromLatin1(cw::kVersion));
  const GuiOptions options = parseOptions(app);

  QSettings settings;
  cw::configureThreads(settings.value(QStringLiteral("engine/threads"), 0).toInt());

  MainWindow window;
  // Scripted screenshots keep the default layout so that they are reproducible.
  if (options.screenshot.isEmpty()) window.restoreLayout();
  window.show();

  auto afterLoad = [&window, options](bool ok, const QString& message) {
    if (!ok) {
      if (!options.screenshot.isEmpty()) fail(message);
      return;
    }
    if (options.analyse && !window.document()->isEmpty()) {
      // A failing step ends a scripted run with its message.
      QObject::connect(window.jobQueue(), &JobQueue::jobFailed, &window, [options](JobId, const QString& m) {
        if (!options.screenshot.isEmpty()) fail(m);
      });
      enqueueEmbedAndCluster(window.jobQueue(), window.document(), [&window, options] { presentView(window, options); }, true);
      return;
    }
    presentView(window, options);
  };
  if (!options.open.isEmpty()) {
    if (!QFileInfo::exists(options.open)) {
      std::fprintf(stderr, "cellwright: %s: no such file\n", qPrintable(options.open));
      return 1;
    }
    window.openDataset(options.open, afterLoad);
  } else {
    afterLoad(true, QString());
  }
  return app.exec();
}

}  // namespace cw::ui
