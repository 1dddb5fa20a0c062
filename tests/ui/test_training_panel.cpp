// The training panel: live curves and figures from progress updates, form checks, and a real
// fine-tuning run (logistic regression on the demo) through the job queue, during which a
// GUI-thread heartbeat keeps firing; predictions become annotations and the run's
// evaluation opens.
#include <QChart>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineSeries>
#include <QJsonObject>
#include <QLineEdit>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "cellwright/ui/document.h"
#include "cellwright/ui/evaluation_view.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/main_window.h"
#include "cellwright/ui/training_panel.h"

static const QString kDemo = QStringLiteral(CELLWRIGHT_RESOURCE_DIR "/demo/seurat_pbmc_small_80.h5ad");

class TestTrainingPanel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void progressUpdatesDrawTheCurves();
  void incompleteFormIsRefused();
  void fineTuningRunsOffTheGuiThreadAndAnnotatesCells();
  void preTrainedRunFieldReachesTheFineTuning();
  void scriptedTrainingScreenshotShowsBothCurves();
};

void TestTrainingPanel::progressUpdatesDrawTheCurves() {
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  cw::ui::TrainingPanel panel(&document, &jobs);
  using Values = QVariantMap;
  panel.showProgress(0.25, QStringLiteral("epoch 1/4 done"),
                     Values{{QStringLiteral("epoch_done"), 1}, {QStringLiteral("epochs"), 4}, {QStringLiteral("train_loss"), 1.2}, {QStringLiteral("train_acc"), 0.4},
                            {QStringLiteral("val_loss"), 1.1}, {QStringLiteral("val_acc"), 0.5}});
  panel.showProgress(0.5, QStringLiteral("epoch 2/4 done"),
                     Values{{QStringLiteral("epoch_done"), 2}, {QStringLiteral("train_loss"), 0.8}, {QStringLiteral("train_acc"), 0.7},
                            {QStringLiteral("val_loss"), 0.9}, {QStringLiteral("val_acc"), 0.625}});
  QCOMPARE(panel.runningLoss()->count(), 0);  // epoch summaries are not running-loss points
  QCOMPARE(panel.validationLoss()->count(), 2);
  QCOMPARE(panel.validationLoss()->at(1), QPointF(2, 0.9));
  QCOMPARE(panel.validationAccuracy()->at(1), QPointF(2, 0.625));
  QCOMPARE(panel.trainingLoss()->at(0), QPointF(1, 1.2));
  QCOMPARE(panel.trainingAccuracy()->at(1), QPointF(2, 0.7));
  // No validation part (k = 1 runs, or a split without one): no validation point.
  panel.showProgress(0.6, QString(), Values{{QStringLiteral("epoch_done"), 3}, {QStringLiteral("train_loss"), 0.7}});
  QCOMPARE(panel.validationLoss()->count(), 2);
  QCOMPARE(panel.trainingLoss()->count(), 3);
  panel.showProgress(0.5, QStringLiteral("epoch 3/4"),
                     {{QStringLiteral("epoch"), 3}, {QStringLiteral("loss"), 0.7}, {QStringLiteral("cells_per_s"), 1234.4},
                      {QStringLiteral("eta_s"), 75.0}, {QStringLiteral("device_memory_gib"), 1.5}});
  QCOMPARE(panel.runningLoss()->count(), 1);
  QCOMPARE(panel.runningLoss()->at(0), QPointF(2.0, 0.7));
  // A new cross-validation fold starts again at epoch 1: its curve replaces the previous fold's.
  panel.showProgress(0.7, QString(), Values{{QStringLiteral("epoch_done"), 1}, {QStringLiteral("val_loss"), 1.3}});
  QCOMPARE(panel.validationLoss()->count(), 1);
  QCOMPARE(panel.validationLoss()->at(0), QPointF(1, 1.3));  // half-way through 4 epochs
  const QString status = panel.statusText();
  for (const char* expected : {"Epoch 3/", "1234 cells/s", "ETA 1 min 15 s", "1.50 GiB"})
    QVERIFY2(status.contains(QString::fromLatin1(expected)), qPrintable(status));
}

void TestTrainingPanel::incompleteFormIsRefused() {
  cw::ui::MainWindow window;
  cw::ui::TrainingPanel* panel = window.trainingPanel();
  QVERIFY(!panel->start());  // no dataset
  QVERIFY(panel->statusText().contains(QStringLiteral("Open a dataset")));
  bool opened = false;
  window.openDataset(kDemo, [&](bool ok, const QString&) { opened = ok; });
  QTRY_VERIFY_WITH_TIMEOUT(opened, 30000);
  cw::ui::TrainingRequest r = panel->request();
  r.trainFraction = 0.7;  // 0.7 + 0.2 + 0.2 != 1
  panel->setRequest(r);
  QVERIFY(!panel->start());
  QVERIFY(panel->statusText().contains(QStringLiteral("add up to 1")));
  QVERIFY(!window.jobQueue()->isBusy());
}

void TestTrainingPanel::fineTuningRunsOffTheGuiThreadAndAnnotatesCells() {
  QTemporaryDir dir;
  cw::ui::MainWindow window;
  bool opened = false;
  window.openDataset(kDemo, [&](bool ok, const QString&) { opened = ok; });
  QTRY_VERIFY_WITH_TIMEOUT(opened, 30000);
  cw::ui::TrainingPanel* panel = window.trainingPanel();
  cw::ui::TrainingRequest r;
  r.model = QStringLiteral("logreg");
  r.label = QStringLiteral("cell_type");
  r.epochs = 8;
  r.batchSize = 16;
  r.device = QStringLiteral("cpu");
  r.runDir = dir.filePath(QStringLiteral("run"));
  panel->setRequest(r);
  QCOMPARE(panel->request().label, QStringLiteral("cell_type"));

  QElapsedTimer sinceTick;
  qint64 longestGap = 0;
  int ticks = 0;
  QTimer heartbeat;
  heartbeat.setInterval(20);
  QObject::connect(&heartbeat, &QTimer::timeout, [&] {
    longestGap = std::max(longestGap, sinceTick.restart());
    ++ticks;
  });
  QSignalSpy progress(window.jobQueue(), &cw::ui::JobQueue::jobProgress);
  QVERIFY(panel->start());
  sinceTick.start();
  heartbeat.start();
  QElapsedTimer total;
  total.start();
  QTRY_VERIFY_WITH_TIMEOUT(!panel->isRunning(), 120000);
  heartbeat.stop();
  QVERIFY2(longestGap < 250, qPrintable(QStringLiteral("GUI thread stalled %1 ms during training").arg(longestGap)));
  QVERIFY(ticks >= total.elapsed() / 20 / 3);

  auto dataset = window.document()->dataset();
  QVERIFY2(dataset->obs.has("cw_pred") && dataset->obs.has("cw_confidence"), qPrintable(panel->statusText()));
  QVERIFY(window.document()->isModified());
  // The curves hold one point per epoch of history.json.
  QFile history(dir.filePath(QStringLiteral("run/history.json")));
  QVERIFY(history.open(QIODevice::ReadOnly));
  const QJsonDocument h = QJsonDocument::fromJson(history.readAll());
  const QJsonArray epochs = h.isArray() ? h.array() : h.object().value(QStringLiteral("epochs")).toArray();
  QVERIFY(!epochs.isEmpty());
  QCOMPARE(panel->validationLoss()->count(), epochs.size());
  // Those points come from the trainer's structured progress values (one per epoch), and
  // agree with history.json.
  QList<QVariantMap> summaries;
  for (const QList<QVariant>& signal : progress) {
    const QVariantMap values = signal.at(3).toMap();
    if (values.contains(QStringLiteral("epoch_done"))) summaries << values;
  }
  QCOMPARE(summaries.size(), epochs.size());
  for (qsizetype e = 0; e < epochs.size(); ++e) {
    const QJsonObject h = epochs[e].toObject();
    const double valLoss = summaries[e].value(QStringLiteral("val_loss")).toDouble();
    QCOMPARE(summaries[e].value(QStringLiteral("epoch_done")).toInt(), static_cast<int>(e + 1));
    QCOMPARE(summaries[e].value(QStringLiteral("epochs")).toInt(), r.epochs);
    QCOMPARE(panel->validationLoss()->at(static_cast<int>(e)), QPointF(static_cast<double>(e + 1), valLoss));
    QCOMPARE(panel->validationAccuracy()->at(static_cast<int>(e)).y(), summaries[e].value(QStringLiteral("val_acc")).toDouble());
    QVERIFY(std::abs(h.value(QStringLiteral("val_loss")).toDouble() - valLoss) < 1e-6 * std::max(1.0, valLoss));
    QVERIFY(std::abs(h.value(QStringLiteral("val_accuracy")).toDouble() - summaries[e].value(QStringLiteral("val_acc")).toDouble()) < 1e-9);
  }
  QVERIFY(panel->runningLoss()->count() > 0);
  // The evaluation of the run is shown, from its metrics.json.
  QCOMPARE(window.evaluationView()->metrics().labels.size(), 3);
  QVERIFY(window.evaluationView()->metrics().json.contains(QStringLiteral("accuracy")));
}

void TestTrainingPanel::preTrainedRunFieldReachesTheFineTuning() {
  QTemporaryDir dir;
  cw::ui::MainWindow window;
  bool opened = false;
  window.openDataset(kDemo, [&](bool ok, const QString&) { opened = ok; });
  QTRY_VERIFY_WITH_TIMEOUT(opened, 30000);
  cw::ui::TrainingPanel* panel = window.trainingPanel();
  cw::ui::TrainingRequest r;
  r.model = QStringLiteral("mlp");
  r.label = QStringLiteral("cell_type");
  r.epochs = 2;
  r.batchSize = 16;
  r.device = QStringLiteral("cpu");
  r.runDir = dir.filePath(QStringLiteral("first"));
  panel->setRequest(r);
  QVERIFY(panel->start());
  QTRY_VERIFY_WITH_TIMEOUT(!panel->isRunning(), 120000);
  QVERIFY(QFile::exists(dir.filePath(QStringLiteral("first/checkpoints/best.ckpt"))));

  // The path typed into the field is the fine-tuning's --init: a missing one is refused by name …
  auto* field = panel->findChild<QLineEdit*>(QStringLiteral("initRun"));
  QVERIFY(field);
  const QString missing = dir.filePath(QStringLiteral("no-such-run"));
  field->clear();
  QTest::keyClicks(field, missing);
  QCOMPARE(panel->request().init, missing);
  r = panel->request();
  r.runDir = dir.filePath(QStringLiteral("second"));
  panel->setRequest(r);
  QSignalSpy failed(window.jobQueue(), &cw::ui::JobQueue::jobFailed);
  QVERIFY(panel->start());
  QTRY_VERIFY_WITH_TIMEOUT(!panel->isRunning(), 60000);
  QCOMPARE(failed.count(), 1);
  QVERIFY2(failed.at(0).at(1).toString().contains(missing), qPrintable(failed.at(0).at(1).toString()));

  // … and the first run's folder initialises the second (recorded in its config.json and log).
  const QString first = dir.filePath(QStringLiteral("first"));
  field->clear();
  QTest::keyClicks(field, first);
  QVERIFY(panel->start());
  QTRY_VERIFY_WITH_TIMEOUT(!panel->isRunning(), 120000);
  QFile config(dir.filePath(QStringLiteral("second/config.json")));
  QVERIFY2(config.open(QIODevice::ReadOnly), qPrintable(panel->statusText()));
  QCOMPARE(QJsonDocument::fromJson(config.readAll()).object().value(QStringLiteral("init")).toString(), first);
  QFile log(dir.filePath(QStringLiteral("second/log.txt")));
  QVERIFY(log.open(QIODevice::ReadOnly));
  QVERIFY(QString::fromUtf8(log.readAll()).contains(QStringLiteral("initialised")));
}

// `cellwright --view training` fine-tunes through the panel and grabs it once the run ends:
// the picture holds the training (blue) and validation (orange) curves across the chart,
// not only their legend markers.
void TestTrainingPanel::scriptedTrainingScreenshotShowsBothCurves() {
  QTemporaryDir dir;
  const QString out = dir.filePath(QStringLiteral("training.png"));
  QProcess app;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));  // leave the user's settings alone
  app.setProcessEnvironment(env);
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH), {QStringLiteral("--open"), kDemo, QStringLiteral("--view"), QStringLiteral("training"),
                                                  QStringLiteral("--train"), QStringLiteral("mlp"), QStringLiteral("--epochs"),
                                                  QStringLiteral("6"), QStringLiteral("--screenshot"), out, QStringLiteral("--view-only")});
  QVERIFY(app.waitForFinished(120000));
  QVERIFY2(app.exitCode() == 0, app.readAllStandardError().constData());
  const QImage image(out);
  QVERIFY(!image.isNull());
  auto columnsWith = [&image](const QColor& colour) {
    int columns = 0;
    for (int x = 0; x < image.width(); ++x)
      for (int y = 0; y < image.height(); ++y) {
        const QColor c = image.pixelColor(x, y);
        if (std::abs(c.red() - colour.red()) <= 12 && std::abs(c.green() - colour.green()) <= 12 && std::abs(c.blue() - colour.blue()) <= 12) {
          ++columns;
          break;
        }
      }
    return columns;
  };
  const int train = columnsWith(QColor(31, 119, 180)), validation = columnsWith(QColor(255, 127, 14));
  QVERIFY2(train > 100, qPrintable(QString::number(train)));
  QVERIFY2(validation > 100, qPrintable(QString::number(validation)));
}

QTEST_MAIN(TestTrainingPanel)
#include "test_training_panel.moc"
