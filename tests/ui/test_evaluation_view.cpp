// Evaluation views from a hand-written run folder (tests/data/ui/run_small): the data shown
// match metrics.json, the heatmap cells carry the expected colours, the ROC legend names the
// AUCs, a confusion cell click selects its test cells, and the real app screenshots them.
#include <QChart>
#include <QChartView>
#include <QLegendMarker>
#include <QLineSeries>
#include <QProcess>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "cellwright/ui/document.h"
#include "cellwright/ui/embedding_view.h"
#include "cellwright/ui/evaluation_view.h"
#include "cellwright/ui/main_window.h"
#include "cellwright/ui/palette.h"

static const QString kRun = QStringLiteral(CELLWRIGHT_UI_TEST_DATA "/run_small");

namespace {

int countNear(const QImage& image, const QColor& color, int tolerance) {
  int n = 0;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) {
      const QColor p = image.pixelColor(x, y);
      n += std::abs(p.red() - color.red()) <= tolerance && std::abs(p.green() - color.green()) <= tolerance &&
           std::abs(p.blue() - color.blue()) <= tolerance;
    }
  return n;
}

}  // namespace

class TestEvaluationView : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void readsMetricsJson();
  void heatmapCellsHaveTheirValuesColours();
  void rocLegendNamesEachClassAuc();
  void metricsTableMatchesTheFile();
  void clickingAConfusionCellSelectsItsCells();
  void missingRunIsAReadableError();
  void screenshotsFromTheRealApplication();
};

void TestEvaluationView::readsMetricsJson() {
  const auto m = cw::ui::RunMetrics::load(kRun);
  QCOMPARE(m.labels, (QStringList{"B", "NK", "T"}));
  QCOMPARE(m.counts[1][2], 2.0);
  QCOMPARE(m.normalized[0][0], 5.0 / 6.0);
  QCOMPARE(m.normalized[1][1], 0.6);
  QCOMPARE(m.predictions.size(), 20);
  QCOMPARE(m.cellsWith(QStringLiteral("NK"), QStringLiteral("T")), (QStringList{"c15", "c16"}));
}

void TestEvaluationView::heatmapCellsHaveTheirValuesColours() {
  cw::ui::EvaluationView view;
  QVERIFY(view.loadRun(kRun));
  view.resize(700, 600);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  cw::ui::ConfusionHeatmap* heatmap = view.heatmap();
  const double normalized[3][3] = {{5 / 6.0, 1 / 6.0, 0}, {0.2, 0.6, 0.2}, {0, 0, 1}};
  QImage image = heatmap->grab().toImage();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      const QPoint corner = heatmap->cellRect(r, c).topLeft() + QPoint(3, 3);  // clear of the centred value
      QCOMPARE(image.pixelColor(corner), cw::ui::blues(normalized[r][c]));
    }
  // The darkest cell writes its value in white.
  QVERIFY(countNear(image.copy(heatmap->cellRect(2, 2)), Qt::white, 30) > 5);
  heatmap->setNormalized(false);
  image = heatmap->grab().toImage();
  QCOMPARE(image.pixelColor(heatmap->cellRect(1, 1).topLeft() + QPoint(3, 3)), cw::ui::blues(1.0));  // 6 is the largest count
  QCOMPARE(image.pixelColor(heatmap->cellRect(0, 0).topLeft() + QPoint(3, 3)), cw::ui::blues(5 / 6.0));
}

void TestEvaluationView::rocLegendNamesEachClassAuc() {
  cw::ui::EvaluationView view;
  QVERIFY(view.loadRun(kRun));
  QStringList names;
  for (auto* series : view.rocChart()->chart()->series())
    if (view.rocChart()->chart()->legend()->markers(series).value(0)->isVisible()) names << series->name();
  QCOMPARE(names, (QStringList{"B (AUC 0.875)", "NK (AUC 0.500)", "T (AUC 1.000)"}));
  auto* b = qobject_cast<QLineSeries*>(view.rocChart()->chart()->series().value(0));
  QVERIFY(b);
  QCOMPARE(b->count(), 4);
  QCOMPARE(b->at(2), QPointF(0.5, 1.0));
  view.resize(800, 600);
  view.show();
  view.showPage(QStringLiteral("roc"));
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  const QImage image = view.rocChart()->grab().toImage();
  for (const QColor& color : cw::ui::categoricalPalette(3)) QVERIFY(countNear(image, color, 12) > 20);
}

void TestEvaluationView::metricsTableMatchesTheFile() {
  cw::ui::EvaluationView view;
  QVERIFY(view.loadRun(kRun));
  QTableWidget* table = view.metricsTable();
  QCOMPARE(table->item(0, 0)->text(), QStringLiteral("B"));
  QCOMPARE(table->item(0, 1)->text().toDouble(), 0.7143);
  QCOMPARE(table->item(1, 2)->text().toDouble(), 0.6);
  QCOMPARE(table->item(2, 5)->text().toDouble(), 1.0);
  QCOMPARE(table->item(3, 0)->text(), QStringLiteral("accuracy"));
  QCOMPARE(table->item(3, 1)->text().toDouble(), 0.75);
}

void TestEvaluationView::clickingAConfusionCellSelectsItsCells() {
  cw::ui::MainWindow window;
  auto d = std::make_shared<cw::Dataset>();
  d->X.rows = 20;
  d->X.cols = 1;
  d->X.indptr.assign(21, 0);
  cw::DenseMatrix m;
  m.rows = 20;
  m.cols = 2;
  for (int i = 0; i < 20; ++i) {
    d->obs.index.push_back("c" + std::to_string(20 - i));  // reversed: names, not positions, decide
    m.values.push_back(i);
    m.values.push_back(i % 3);
  }
  d->obsm["X_umap"] = m;
  d->var.index = {"g"};
  window.document()->setDataset(d, QString(), false);
  QVERIFY(window.openRun(kRun));
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  cw::ui::ConfusionHeatmap* heatmap = window.evaluationView()->heatmap();
  QSignalSpy clicked(heatmap, &cw::ui::ConfusionHeatmap::cellClicked);
  QTest::mouseClick(heatmap, Qt::LeftButton, Qt::NoModifier, heatmap->cellRect(1, 2).center());
  QCOMPARE(clicked.count(), 1);
  QCOMPARE(clicked[0][0].toString(), QStringLiteral("NK"));
  QCOMPARE(clicked[0][1].toString(), QStringLiteral("T"));
  // c15 and c16 sit at rows 5 and 4.
  QCOMPARE(window.embeddingView()->selection(), (std::vector<int64_t>{4, 5}));
}

void TestEvaluationView::missingRunIsAReadableError() {
  cw::ui::EvaluationView view;
  QString error;
  QVERIFY(!view.loadRun(QStringLiteral("/nonexistent/run"), &error));
  QVERIFY(error.contains(QStringLiteral("metrics.json")));
  QVERIFY(!error.contains(QLatin1Char('\n')));
}

void TestEvaluationView::screenshotsFromTheRealApplication() {
  QTemporaryDir dir;
  const QString confusion = dir.filePath(QStringLiteral("confusion.png")), roc = dir.filePath(QStringLiteral("roc.png"));
  QProcess app;
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH), {QStringLiteral("--run"), kRun, QStringLiteral("--view"), QStringLiteral("confusion"),
                                                  QStringLiteral("--screenshot"), confusion, QStringLiteral("--view-only")});
  QVERIFY(app.waitForFinished(60000));
  QVERIFY2(app.exitCode() == 0, app.readAllStandardError().constData());
  const QImage c(confusion);
  QVERIFY(countNear(c, cw::ui::blues(5 / 6.0), 0) > 500);  // the B/B cell
  QVERIFY(countNear(c, cw::ui::blues(1.0), 0) > 500);      // the T/T cell
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH), {QStringLiteral("--run"), kRun, QStringLiteral("--view"), QStringLiteral("roc"),
                                                  QStringLiteral("--screenshot"), roc, QStringLiteral("--view-only")});
  QVERIFY(app.waitForFinished(60000));
  QVERIFY2(app.exitCode() == 0, app.readAllStandardError().constData());
  QVERIFY(countNear(QImage(roc), cw::ui::categoricalPalette(3)[0], 12) > 20);
}

QTEST_MAIN(TestEvaluationView)
#include "test_evaluation_view.moc"
