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
};

void TestTrainingPanel::progressUpdatesDrawTheCurves() {
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  cw::ui::TrainingPanel panel(&document, &jobs);
  cw::ui::TrainingRequest r = panel.request();
  r.epochs = 4;
  panel.setRequest(r);
  panel.showLogLine(QStringLiteral("epoch 1/4: train loss 1.2, train acc 0.4, val loss 1.1, val acc 0.5, lr 0.001, 0.2 s"));
  panel.showLogLine(QStringLiteral("epoch 2/4: train loss 0.8, train acc 0.7, val loss 0.9, val acc 0.625, lr 0.001, 0.2 s"));
  panel.showLogLine(QStringLiteral("loading checkpoint"));  // not an epoch line: ignored
  QCOMPARE(panel.validationLoss()->count(), 2);
  QCOMPARE(panel.validationLoss()->at(1), QPointF(2, 0.9));
  QCOMPARE(panel.validationAccuracy()->at(1), QPointF(2, 0.625));
  panel.showProgress(0.5, QStringLiteral("epoch 3/4"),
                     {{QStringLiteral("epoch"), 3}, {QStringLiteral("loss"), 0.7}, {QStringLiteral("cells_per_s"), 1234.4},
                      {QStringLiteral("eta_s"), 75.0}, {QStringLiteral("device_memory_gib"), 1.5}});
  QCOMPARE(panel.runningLoss()->count(), 1);
  QCOMPARE(panel.runningLoss()->at(0), QPointF(2.0, 0.7));  // half-way through 4 epochs
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
  QVERIFY(panel->runningLoss()->count() > 0);
  // The evaluation of the run is shown, from its metrics.json.
  QCOMPARE(window.evaluationView()->metrics().labels.size(), 3);
  QVERIFY(window.evaluationView()->metrics().json.contains(QStringLiteral("accuracy")));
}

QTEST_MAIN(TestTrainingPanel)
#include "test_training_panel.moc"
