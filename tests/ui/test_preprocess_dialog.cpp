// The preprocess dialog: its QC histograms hold the per-cell values computed here by hand
// from the counts, the threshold lines follow the spin boxes, the drawn chart shows the bar
// and threshold colours where they belong, and Run filters and normalises the dataset.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGroupBox>
#include <QLineSeries>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QtTest>

#include <cmath>

#include "cellwright/ui/document.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/preprocess_dialog.h"
#include "cellwright/ui/qc_histogram.h"

namespace {

constexpr int kCells = 60, kGenes = 8;
const std::vector<std::string> kGeneNames = {"CD3E", "MS4A1", "MT-CO1", "LYZ", "MT-ND1", "NKG7", "GNLY", "mt-Rnr2"};

// Deterministic counts with varied depth, detection and mitochondrial share.
float countAt(int cell, int gene) {
  const int v = (cell * 7 + gene * 13 + cell * gene) % 11;
  if (v < 4) return 0.0f;
  return static_cast<float>((v - 3) * (1 + cell % 5) + (gene == 2 ? cell % 9 : 0));
}

std::shared_ptr<const cw::Dataset> smallDataset() {
  auto d = std::make_shared<cw::Dataset>();
  d->X.rows = kCells;
  d->X.cols = kGenes;
  for (int c = 0; c < kCells; ++c) {
    for (int g = 0; g < kGenes; ++g)
      if (const float v = countAt(c, g); v != 0) {
        d->X.indices.push_back(g);
        d->X.data.push_back(v);
      }
    d->X.indptr.push_back(static_cast<int64_t>(d->X.data.size()));
    d->obs.index.push_back("cell" + std::to_string(c));
  }
  d->var.index = kGeneNames;
  d->countsSource = cw::detectCountsSource(*d);
  return d;
}

struct HandQc {
  std::vector<double> genes, counts, pctMito;
};

HandQc handQc() {
  HandQc q;
  for (int c = 0; c < kCells; ++c) {
    double genes = 0, total = 0, mito = 0;
    for (int g = 0; g < kGenes; ++g) {
      const double v = countAt(c, g);
      genes += v > 0;
      total += v;
      if (g == 2 || g == 4 || g == 7) mito += v;  // MT-CO1, MT-ND1, mt-Rnr2
    }
    q.genes.push_back(genes);
    q.counts.push_back(total);
    q.pctMito.push_back(total > 0 ? 100.0 * mito / total : 0.0);
  }
  return q;
}

// numpy.histogram's bins: 50 equal widths over [min, max], the last one closed.
std::vector<int64_t> handBins(const std::vector<double>& v) {
  const double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  std::vector<int64_t> bins(50, 0);
  for (double x : v) {
    int b = hi > lo ? static_cast<int>((x - lo) / ((hi - lo) / 50)) : 0;
    ++bins[static_cast<size_t>(std::min(b, 49))];
  }
  return bins;
}

bool near(const QColor& a, const QColor& b, int tolerance = 8) {
  return std::abs(a.red() - b.red()) <= tolerance && std::abs(a.green() - b.green()) <= tolerance &&
         std::abs(a.blue() - b.blue()) <= tolerance;
}

}  // namespace

class TestPreprocessDialog : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void init() { QSettings().clear(); }
  void histogramsHoldTheHandComputedQcValues();
  void thresholdLineFollowsTheSpinBox();
  void chartImageShowsBarsAndThresholdLine();
  void runFiltersAndNormalisesTheDataset();
  void datasetWithoutCountsIsAReadableError();
  void applicationScreenshotShowsTheHistograms();
};

void TestPreprocessDialog::histogramsHoldTheHandComputedQcValues() {
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(smallDataset(), QStringLiteral("small"), false);
  cw::ui::PreprocessDialog dialog(&document, &jobs);
  QSignalSpy computed(&dialog, &cw::ui::PreprocessDialog::qcComputed);
  QVERIFY(computed.wait(10000));
  const HandQc expected = handQc();
  QCOMPARE(dialog.genesHistogram()->values(), expected.genes);
  QCOMPARE(dialog.countsHistogram()->values(), expected.counts);
  const auto& pct = dialog.mitoHistogram()->values();
  QCOMPARE(pct.size(), expected.pctMito.size());
  for (size_t i = 0; i < pct.size(); ++i) QVERIFY(std::abs(pct[i] - expected.pctMito[i]) < 1e-9);
  QCOMPARE(dialog.genesHistogram()->histogram().counts, handBins(expected.genes));
  QCOMPARE(dialog.countsHistogram()->histogram().counts, handBins(expected.counts));
  QCOMPARE(dialog.mitoHistogram()->histogram().counts, handBins(expected.pctMito));
  // scanpy's defaults are pre-filled: target sum 1e4, log1p on, no filters, no HVG.
  QCOMPARE(dialog.targetSumBox()->value(), 1e4);
  QVERIFY(dialog.log1pBox()->isChecked());
  QVERIFY(!dialog.hvgGroup()->isChecked());
  QCOMPARE(dialog.hvgFlavorBox()->currentText(), QStringLiteral("seurat"));
  QVERIFY(!dialog.genesHistogram()->isThresholdShown(cw::ui::QcHistogram::Lower));
}

void TestPreprocessDialog::thresholdLineFollowsTheSpinBox() {
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(smallDataset(), QStringLiteral("small"), false);
  cw::ui::PreprocessDialog dialog(&document, &jobs);
  dialog.show();
  QVERIFY(QTest::qWaitForWindowExposed(&dialog));
  QTRY_VERIFY_WITH_TIMEOUT(dialog.qcReady(), 10000);
  auto* histogram = dialog.genesHistogram();
  QLineSeries* line = histogram->thresholdSeries(cw::ui::QcHistogram::Lower);
  dialog.minGenesBox()->setValue(3);
  QVERIFY(line->isVisible());
  QCOMPARE(line->count(), 2);
  QCOMPARE(line->at(0).x(), 3.0);
  QCOMPARE(line->at(1).x(), 3.0);
  const double x3 = histogram->mapToWidget({3, 0}).x();
  dialog.minGenesBox()->setValue(5);
  QCOMPARE(line->at(0).x(), 5.0);
  QVERIFY(histogram->mapToWidget({5, 0}).x() > x3 + 5);
  dialog.minGenesBox()->setValue(0);  // off
  QVERIFY(!line->isVisible());
  dialog.maxPctMitoBox()->setValue(12.5);
  QCOMPARE(dialog.mitoHistogram()->thresholdSeries(cw::ui::QcHistogram::Upper)->at(0).x(), 12.5);
  QCOMPARE(dialog.request().options.filters.maxPctMito, 12.5);
}

void TestPreprocessDialog::chartImageShowsBarsAndThresholdLine() {
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(smallDataset(), QStringLiteral("small"), false);
  cw::ui::PreprocessDialog dialog(&document, &jobs);
  dialog.show();
  QVERIFY(QTest::qWaitForWindowExposed(&dialog));
  QTRY_VERIFY_WITH_TIMEOUT(dialog.qcReady(), 10000);
  auto* histogram = dialog.countsHistogram();
  const auto& h = histogram->histogram();
  // A threshold in the middle of an empty stretch or a bar; the bar picked is the tallest.
  const auto tallest = std::max_element(h.counts.begin(), h.counts.end()) - h.counts.begin();
  const double barCentre = h.start + (static_cast<double>(tallest) + 0.5) * h.width;
  const double threshold = barCentre + 10 * h.width < h.start + 50 * h.width ? barCentre + 10 * h.width : barCentre - 10 * h.width;
  dialog.minCountsBox()->setValue(std::round(threshold));
  QApplication::processEvents();
  const QImage image = histogram->grab().toImage();
  const double half = static_cast<double>(h.counts[static_cast<size_t>(tallest)]) / 2;
  const QPoint inBar = histogram->mapToWidget({barCentre, half}).toPoint() * image.devicePixelRatio();
  QVERIFY2(near(image.pixelColor(inBar), cw::ui::QcHistogram::barColor()), qPrintable(image.pixelColor(inBar).name()));
  const QPoint onLine = histogram->mapToWidget({std::round(threshold), half}).toPoint() * image.devicePixelRatio();
  QVERIFY2(near(image.pixelColor(onLine), cw::ui::QcHistogram::thresholdColor()), qPrintable(image.pixelColor(onLine).name()));
  // Moving the threshold moves the red pixels with it.
  const int before = onLine.x();
  dialog.minCountsBox()->setValue(std::round(threshold) + 20 * h.width);
  QApplication::processEvents();
  const QImage moved = histogram->grab().toImage();
  const QPoint newLine = histogram->mapToWidget({std::round(threshold) + 20 * h.width, half}).toPoint() * moved.devicePixelRatio();
  QVERIFY(newLine.x() != before);
  QVERIFY(near(moved.pixelColor(newLine), cw::ui::QcHistogram::thresholdColor()));
  QVERIFY(!near(moved.pixelColor(QPoint(before, onLine.y())), cw::ui::QcHistogram::thresholdColor()));
}

void TestPreprocessDialog::runFiltersAndNormalisesTheDataset() {
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(smallDataset(), QStringLiteral("small"), false);
  cw::ui::PreprocessDialog dialog(&document, &jobs);
  QTRY_VERIFY_WITH_TIMEOUT(dialog.qcReady(), 10000);
  dialog.minGenesBox()->setValue(4);
  dialog.maxCountsBox()->setValue(60);
  const HandQc qc = handQc();
  int64_t expectedCells = 0;
  for (int c = 0; c < kCells; ++c) expectedCells += qc.genes[c] >= 4 && qc.counts[c] <= 60;
  QVERIFY(expectedCells > 0 && expectedCells < kCells);
  QSignalSpy changed(&document, &cw::ui::Document::datasetChanged);
  dialog.run();
  QTRY_VERIFY_WITH_TIMEOUT(changed.count() == 1, 20000);
  auto d = document.dataset();
  QCOMPARE(d->nObs(), expectedCells);
  QVERIFY(document.isModified());
  QVERIFY(d->layers.count("counts"));
  QVERIFY(d->obs.has("pct_counts_mt"));
  // X = log1p(counts / total * 1e4) for the first kept cell.
  const auto& counts = d->layers.at("counts");
  double total = 0;
  for (int64_t k = counts.indptr[0]; k < counts.indptr[1]; ++k) total += counts.data[static_cast<size_t>(k)];
  QCOMPARE(d->X.indptr[1], counts.indptr[1]);
  for (int64_t k = 0; k < counts.indptr[1]; ++k)
    QVERIFY(std::abs(d->X.data[static_cast<size_t>(k)] - std::log1p(counts.data[static_cast<size_t>(k)] / total * 1e4)) < 1e-4);
}

void TestPreprocessDialog::datasetWithoutCountsIsAReadableError() {
  auto d = std::make_shared<cw::Dataset>(*smallDataset());
  for (float& v : d->X.data) v += 0.5f;
  d->countsSource = cw::CountsSource::None;
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(d, QStringLiteral("normalised"), false);
  QSignalSpy failed(&jobs, &cw::ui::JobQueue::jobFailed);
  cw::ui::PreprocessDialog dialog(&document, &jobs);
  QVERIFY(failed.wait(10000));
  QVERIFY(failed.at(0).at(1).toString().contains(QStringLiteral("no raw counts")));
  QVERIFY(!dialog.qcReady());
}

void TestPreprocessDialog::applicationScreenshotShowsTheHistograms() {
  QTemporaryDir dir;
  const QString out = dir.filePath(QStringLiteral("preprocess.png"));
  QProcess app;
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH),
            {QStringLiteral("--open"), QStringLiteral(CELLWRIGHT_RESOURCE_DIR "/demo/seurat_pbmc_small_80.h5ad"), QStringLiteral("--view"),
             QStringLiteral("preprocess"), QStringLiteral("--screenshot"), out, QStringLiteral("--view-only")});
  QVERIFY(app.waitForFinished(60000));
  QVERIFY2(app.exitCode() == 0, app.readAllStandardError().constData());
  const QImage image(out);
  QVERIFY(!image.isNull());
  int bars = 0, lines = 0;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) {
      bars += near(image.pixelColor(x, y), cw::ui::QcHistogram::barColor());
      lines += near(image.pixelColor(x, y), cw::ui::QcHistogram::thresholdColor());
    }
  QVERIFY2(bars > 500, qPrintable(QString::number(bars)));
  QVERIFY2(lines > 100, qPrintable(QString::number(lines)));  // the scripted thresholds
}

QTEST_MAIN(TestPreprocessDialog)
#include "test_preprocess_dialog.moc"
