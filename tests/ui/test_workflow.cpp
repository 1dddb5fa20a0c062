// Whole-application behaviour: the GUI thread stays responsive while a training job runs,
// exports (PNG at a chosen size, SVG, CSV, .h5ad) write what is shown, and settings remember
// recent files.
#include <QElapsedTimer>
#include <QFile>
#include <QSettings>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <filesystem>

#include "cellwright/io/readers.h"
#include "cellwright/ui/analysis_steps.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/evaluation_view.h"
#include "cellwright/ui/export.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/main_window.h"
#include "cellwright/ui/parameters_dialog.h"
#include "cellwright/workflows/demo.h"

static const QString kDemo = QStringLiteral(CELLWRIGHT_RESOURCE_DIR "/demo/seurat_pbmc_small_80.h5ad");
static const QString kRun = QStringLiteral(CELLWRIGHT_UI_TEST_DATA "/run_small");

class TestWorkflow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void heartbeatKeepsFiringWhileATrainingJobRuns();
  void pngIsWrittenAtTheChosenSize();
  void svgAndCsvExports();
  void savedDatasetKeepsNewAnnotations();
  void parameterFormsStartAtScanpyDefaultsAndRememberTheLastValues();
};

void TestWorkflow::heartbeatKeepsFiringWhileATrainingJobRuns() {
  QTemporaryDir dir;
  cw::ui::JobQueue queue;
  std::atomic<int> trainings{0};
  const std::string out = dir.filePath(QStringLiteral("run")).toStdString();
  // Logistic-regression training on the demo, repeated for at least 1.5 s on the engine thread.
  queue.enqueue(QStringLiteral("training"), [&trainings, out](cw::Feedback& feedback) -> std::any {
    QElapsedTimer clock;
    clock.start();
    do {
      cw::workflows::DemoOptions options;
      options.input = kDemo.toStdString();
      options.outputDir = out;
      cw::workflows::runDemo(options, &feedback);
      ++trainings;
    } while (clock.elapsed() < 1500);
    return {};
  });
  QElapsedTimer sinceTick;
  sinceTick.start();
  qint64 longestGap = 0;
  int ticks = 0;
  QTimer heartbeat;
  heartbeat.setInterval(20);
  QObject::connect(&heartbeat, &QTimer::timeout, [&] {
    longestGap = std::max(longestGap, sinceTick.restart());
    ++ticks;
  });
  heartbeat.start();
  QElapsedTimer total;
  total.start();
  QTRY_VERIFY_WITH_TIMEOUT(!queue.isBusy(), 60000);
  QVERIFY(trainings.load() >= 1);
  QVERIFY(total.elapsed() >= 1500);
  // 20 ms ticks: a blocked GUI thread would show one long gap and few ticks.
  QVERIFY2(longestGap < 250, qPrintable(QStringLiteral("GUI thread stalled %1 ms").arg(longestGap)));
  QVERIFY2(ticks >= total.elapsed() / 20 / 3, qPrintable(QStringLiteral("%1 ticks in %2 ms").arg(ticks).arg(total.elapsed())));
  QVERIFY(std::filesystem::exists(out + "/metrics.json"));
}

void TestWorkflow::pngIsWrittenAtTheChosenSize() {
  QTemporaryDir dir;
  cw::ui::EvaluationView view;
  QVERIFY(view.loadRun(kRun));
  view.resize(500, 400);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  const QString path = dir.filePath(QStringLiteral("heatmap.png"));
  const QSize before = view.heatmap()->size();
  QVERIFY(cw::ui::exportPng(view.heatmap(), path, QSize(1200, 900)));
  const QImage image(path);
  QCOMPARE(image.size(), QSize(1200, 900));
  int darkBlue = 0;
  for (int y = 0; y < image.height(); y += 3)
    for (int x = 0; x < image.width(); x += 3) darkBlue += image.pixelColor(x, y) == cw::ui::blues(1.0);
  QVERIFY(darkBlue > 1000);  // the T/T cell, re-laid out at the larger size
  QCOMPARE(view.heatmap()->size(), before);  // the view on screen is left as it was
}

void TestWorkflow::svgAndCsvExports() {
  QTemporaryDir dir;
  cw::ui::EvaluationView view;
  QVERIFY(view.loadRun(kRun));
  view.resize(500, 400);
  const QString svg = dir.filePath(QStringLiteral("heatmap.svg"));
  QVERIFY(cw::ui::exportSvg(view.heatmap(), svg));
  QFile svgFile(svg);
  QVERIFY(svgFile.open(QIODevice::ReadOnly));
  const QByteArray content = svgFile.readAll();
  QVERIFY(content.contains("<svg"));
  QVERIFY(content.contains(cw::ui::blues(1.0).name().toLatin1()));  // the fills are vector shapes
  QVERIFY(content.contains("NK"));  // labels are text, not pixels

  QStandardItemModel model(2, 2);
  model.setHorizontalHeaderLabels({QStringLiteral("cell"), QStringLiteral("note")});
  model.setItem(0, 0, new QStandardItem(QStringLiteral("AAAC-1")));
  model.setItem(0, 1, new QStandardItem(QStringLiteral("T, naive")));
  model.setItem(1, 0, new QStandardItem(QStringLiteral("AAAG-1")));
  model.setItem(1, 1, new QStandardItem(QStringLiteral("say \"B\"")));
  const QString csv = dir.filePath(QStringLiteral("t.csv"));
  QVERIFY(cw::ui::exportCsv(&model, csv));
  QFile csvFile(csv);
  QVERIFY(csvFile.open(QIODevice::ReadOnly));
  QCOMPARE(csvFile.readAll(), QByteArray("cell,note\nAAAC-1,\"T, naive\"\nAAAG-1,\"say \"\"B\"\"\"\n"));
}

void TestWorkflow::savedDatasetKeepsNewAnnotations() {
  QTemporaryDir dir;
  cw::ui::MainWindow window;
  bool opened = false;
  window.openDataset(kDemo, [&](bool ok, const QString&) { opened = ok; });
  QTRY_VERIFY_WITH_TIMEOUT(opened, 30000);
  QVERIFY(QSettings().value(QStringLiteral("files/recent")).toStringList().contains(kDemo));
  bool annotated = false;
  cw::ui::enqueueDatasetEdit(window.jobQueue(), window.document(), QStringLiteral("annotate"),
                             cw::ui::selectionCategoryStep("picked", {0, 2, 4}), [&] { annotated = true; });
  QTRY_VERIFY_WITH_TIMEOUT(annotated, 30000);
  QVERIFY(window.document()->isModified());
  const QString path = dir.filePath(QStringLiteral("annotated.h5ad"));
  bool saved = false;
  window.saveDataset(path, [&](bool ok) { saved = ok; });
  QTRY_VERIFY_WITH_TIMEOUT(saved, 30000);
  QVERIFY(!window.document()->isModified());
  QCOMPARE(window.document()->path(), path);
  const auto back = cw::io::readDataset(path.toStdString()).dataset;
  const cw::Column& picked = back.obs.at("picked");
  QCOMPARE(picked.categories, (std::vector<std::string>{"selected", "other"}));
  QCOMPARE(picked.codes[0], 0);
  QCOMPARE(picked.codes[1], 1);
  QCOMPARE(picked.codes[4], 0);
  QCOMPARE(back.nObs(), 80);
}

void TestWorkflow::parameterFormsStartAtScanpyDefaultsAndRememberTheLastValues() {
  QSettings().remove(QStringLiteral("test/umap"));
  {
    cw::ui::ParametersDialog pca(QStringLiteral("PCA"), QStringLiteral("test/pca"));
    cw::ui::addPcaFields(pca);
    QCOMPARE(pca.value(QStringLiteral("n_comps")), 50.0);  // scanpy's pp.pca
    cw::ui::ParametersDialog neighbors(QStringLiteral("Neighbours"), QStringLiteral("test/neighbors"));
    cw::ui::addNeighborsFields(neighbors);
    QCOMPARE(neighbors.value(QStringLiteral("n_neighbors")), 15.0);  // scanpy's pp.neighbors
    cw::ui::ParametersDialog leiden(QStringLiteral("Leiden"), QStringLiteral("test/leiden"));
    cw::ui::addLeidenFields(leiden);
    QCOMPARE(leiden.value(QStringLiteral("resolution")), 1.0);  // scanpy's tl.leiden
  }
  cw::ui::ParametersDialog umap(QStringLiteral("UMAP"), QStringLiteral("test/umap"));
  cw::ui::addUmapFields(umap);
  umap.restore();
  QCOMPARE(umap.value(QStringLiteral("min_dist")), 0.5);  // scanpy's tl.umap
  QCOMPARE(umap.value(QStringLiteral("spread")), 1.0);
  umap.setValue(QStringLiteral("min_dist"), 0.3);
  QCOMPARE(cw::ui::umapOptionsFrom(umap).minDist, 0.3);
  umap.remember();
  cw::ui::ParametersDialog again(QStringLiteral("UMAP"), QStringLiteral("test/umap"));
  cw::ui::addUmapFields(again);
  again.restore();
  QCOMPARE(again.value(QStringLiteral("min_dist")), 0.3);
}

QTEST_MAIN(TestWorkflow)
#include "test_workflow.moc"
