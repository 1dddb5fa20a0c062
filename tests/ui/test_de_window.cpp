// The differential-expression window on the scipy reference case (tests/data/analysis/
// de_reference.json, made by tests/reference/analysis_de.py): the table matches scipy's
// Wilcoxon z, p, BH-adjusted p and scanpy's log fold change, for a group against the rest
// and for one cell selection against another; the dot plot's sizes and colours follow the
// fractions and means computed here from the matrix, and its drawn dots have those colours.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "cellwright/ui/de_table.h"
#include "cellwright/ui/de_window.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/expression_plots.h"
#include "cellwright/ui/embedding_view.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/main_window.h"
#include "cellwright/ui/palette.h"

static const QString kReference = QStringLiteral(CELLWRIGHT_TEST_DATA "/analysis/de_reference.json");

namespace {

QJsonObject reference() {
  QFile f(kReference);
  if (!f.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(kReference));
  return QJsonDocument::fromJson(f.readAll()).object();
}

std::vector<double> numbers(const QJsonValue& v) {
  std::vector<double> out;
  for (const auto& x : v.toArray()) out.push_back(x.toDouble());
  return out;
}

std::shared_ptr<const cw::Dataset> referenceDataset(const QJsonObject& r) {
  auto d = std::make_shared<cw::Dataset>();
  d->X.rows = r.value(QStringLiteral("n")).toInt();
  d->X.cols = r.value(QStringLiteral("g")).toInt();
  d->X.indptr.clear();
  for (double v : numbers(r.value(QStringLiteral("indptr")))) d->X.indptr.push_back(static_cast<int64_t>(v));
  for (double v : numbers(r.value(QStringLiteral("indices")))) d->X.indices.push_back(static_cast<int32_t>(v));
  for (double v : numbers(r.value(QStringLiteral("data")))) d->X.data.push_back(static_cast<float>(v));
  std::vector<int32_t> codes;
  for (double v : numbers(r.value(QStringLiteral("groups")))) codes.push_back(static_cast<int32_t>(v));
  for (int64_t i = 0; i < d->X.rows; ++i) d->obs.index.push_back("c" + std::to_string(i));
  for (int64_t j = 0; j < d->X.cols; ++j) d->var.index.push_back("g" + std::to_string(j));
  d->obs.set("group", cw::Column::categorical(codes, {"0", "1", "2"}));
  return d;
}

// Table rows by gene name: score, log2 fold change, p, adjusted p.
std::map<QString, std::array<double, 4>> tableRows(const QTableWidget* t) {
  std::map<QString, std::array<double, 4>> rows;
  for (int r = 0; r < t->rowCount(); ++r)
    rows[t->item(r, 0)->text()] = {t->item(r, 1)->data(Qt::DisplayRole).toDouble(), t->item(r, 2)->data(Qt::DisplayRole).toDouble(),
                                   t->item(r, 3)->data(Qt::DisplayRole).toDouble(), t->item(r, 4)->data(Qt::DisplayRole).toDouble()};
  return rows;
}

void compareWithScipy(const QTableWidget* table, const QJsonObject& expected, int genes) {
  const auto rows = tableRows(table);
  QCOMPARE(static_cast<int>(rows.size()), genes);
  const auto z = numbers(expected.value(QStringLiteral("wilcoxon_score")));
  const auto p = numbers(expected.value(QStringLiteral("wilcoxon_pval")));
  const auto padj = numbers(expected.value(QStringLiteral("wilcoxon_pval_adj")));
  const auto lfc = numbers(expected.value(QStringLiteral("logfoldchange")));
  for (int j = 0; j < genes; ++j) {
    const auto& row = rows.at(QStringLiteral("g%1").arg(j));
    QVERIFY2(std::abs(row[0] - z[j]) < 1e-4, qPrintable(QStringLiteral("g%1 score %2 vs %3").arg(j).arg(row[0]).arg(z[j])));
    if (std::isfinite(lfc[j])) QVERIFY2(std::abs(row[1] - lfc[j]) < 1e-3 * std::max(1.0, std::abs(lfc[j])), qPrintable(QStringLiteral("g%1 lfc").arg(j)));
    QVERIFY2(std::abs(row[2] - p[j]) < 1e-6 + 1e-4 * p[j], qPrintable(QStringLiteral("g%1 p").arg(j)));
    QVERIFY2(std::abs(row[3] - padj[j]) < 1e-6 + 1e-4 * padj[j], qPrintable(QStringLiteral("g%1 padj").arg(j)));
  }
}

bool near(const QColor& a, const QColor& b, int tolerance) {
  return std::abs(a.red() - b.red()) <= tolerance && std::abs(a.green() - b.green()) <= tolerance &&
         std::abs(a.blue() - b.blue()) <= tolerance;
}

}  // namespace

class TestDeWindow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
  void groupAgainstRestMatchesScipy();
  void selectionAgainstSelectionMatchesScipy();
  void dotPlotFollowsFractionsAndMeans();
  void tableSortsByColumn();
  void lassoSelectionOpensTheTestAgainstTheRest();
};

void TestDeWindow::groupAgainstRestMatchesScipy() {
  const QJsonObject r = reference();
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(referenceDataset(r), QStringLiteral("reference"), false);
  cw::ui::DeWindow window(&document, &jobs);
  QVERIFY(window.setGroupComparison(QStringLiteral("group"), QStringLiteral("0")));
  QSignalSpy shown(&window, &cw::ui::DeWindow::resultShown);
  window.run();
  QVERIFY(shown.wait(20000));
  compareWithScipy(window.table()->table(), r.value(QStringLiteral("group0_vs_rest")).toObject(), r.value(QStringLiteral("g")).toInt());
  // Rows come by score, highest first (scanpy's order).
  const QTableWidget* t = window.table()->table();
  for (int row = 1; row < t->rowCount(); ++row)
    QVERIFY(t->item(row - 1, 1)->data(Qt::DisplayRole).toDouble() >= t->item(row, 1)->data(Qt::DisplayRole).toDouble());
  // The plots show the top five genes across the three groups.
  QCOMPARE(window.dotPlot()->summary().genes.size(), 5);
  QCOMPARE(window.dotPlot()->summary().genes.first(), t->item(0, 0)->text());
  QCOMPARE(window.dotPlot()->summary().groups, (QStringList{"0", "1", "2"}));
}

void TestDeWindow::selectionAgainstSelectionMatchesScipy() {
  const QJsonObject r = reference();
  const auto groups = numbers(r.value(QStringLiteral("groups")));
  std::vector<int64_t> a, b;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i] == 1) a.push_back(static_cast<int64_t>(i));
    if (groups[i] == 2) b.push_back(static_cast<int64_t>(i));
  }
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(referenceDataset(r), QStringLiteral("reference"), false);
  cw::ui::DeWindow window(&document, &jobs);
  // A comes from the "current selection" (the embedding's lasso in the application).
  window.setSelectionSource([a] { return a; });
  window.setSelections({}, b);
  for (auto* button : window.findChildren<QPushButton*>())
    if (button->text().contains(QStringLiteral("as A"))) button->click();
  QSignalSpy shown(&window, &cw::ui::DeWindow::resultShown);
  window.run();
  QVERIFY(shown.wait(20000));
  QCOMPARE(window.comparison().group, std::string("A"));
  QCOMPARE(window.comparison().reference, std::string("B"));
  compareWithScipy(window.table()->table(), r.value(QStringLiteral("group1_vs_group2")).toObject(), r.value(QStringLiteral("g")).toInt());
  QCOMPARE(window.dotPlot()->summary().groups, (QStringList{"A", "B"}));
}

void TestDeWindow::dotPlotFollowsFractionsAndMeans() {
  const QJsonObject r = reference();
  auto dataset = referenceDataset(r);
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(dataset, QStringLiteral("reference"), false);
  cw::ui::DeWindow window(&document, &jobs);
  QVERIFY(window.setGroupComparison(QStringLiteral("group"), QStringLiteral("1"), QStringLiteral("2")));
  QSignalSpy shown(&window, &cw::ui::DeWindow::resultShown);
  window.run();
  QVERIFY(shown.wait(20000));
  QSignalSpy plotted(&window, &cw::ui::DeWindow::plotsShown);
  const QStringList genes{"g3", "g5", "g7", "g10"};
  window.plotGenes(genes);
  QVERIFY(plotted.wait(20000));

  // Fractions and means from the dense reference matrix, by hand.
  const auto indptr = numbers(r.value(QStringLiteral("indptr")));
  const auto indices = numbers(r.value(QStringLiteral("indices")));
  const auto data = numbers(r.value(QStringLiteral("data")));
  const auto groups = numbers(r.value(QStringLiteral("groups")));
  double sum[4][3] = {}, expressing[4][3] = {}, cells[3] = {};
  const int columns[4] = {3, 5, 7, 10};
  for (size_t c = 0; c < groups.size(); ++c) {
    const int g = static_cast<int>(groups[c]);
    cells[g] += 1;
    for (auto k = static_cast<size_t>(indptr[c]); k < static_cast<size_t>(indptr[c + 1]); ++k)
      for (int j = 0; j < 4; ++j)
        if (static_cast<int>(indices[k]) == columns[j]) {
          sum[j][g] += static_cast<float>(data[k]);
          expressing[j][g] += data[k] > 0;
        }
  }
  cw::ui::DotPlot* dots = window.dotPlot();
  const auto& s = dots->summary();
  QCOMPARE(s.genes, genes);
  double lo = INFINITY, hi = -INFINITY;
  for (int j = 0; j < 4; ++j)
    for (int g = 0; g < 3; ++g) {
      QVERIFY(std::abs(s.fractionExpressing[j][g] - expressing[j][g] / cells[g]) < 1e-12);
      QVERIFY(std::abs(s.meanExpression[j][g] - sum[j][g] / cells[g]) < 1e-5);
      lo = std::min(lo, sum[j][g] / cells[g]);
      hi = std::max(hi, sum[j][g] / cells[g]);
    }
  // Dot area ∝ fraction; colour = Reds at the mean scaled between the smallest and largest.
  dots->resize(dots->sizeHint());
  window.plotTabs()->setCurrentIndex(0);
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  const QImage image = dots->grab().toImage();
  int checked = 0;
  for (int j = 0; j < 4; ++j)
    for (int g = 0; g < 3; ++g) {
      const QRectF rect = dots->dotRect(g, j);
      const double fraction = expressing[j][g] / cells[g];
      QVERIFY(std::abs(rect.width() - cw::ui::DotPlot::kMaxDiameter * std::sqrt(fraction)) < 1e-9);
      const QColor expected = cw::ui::reds((sum[j][g] / cells[g] - lo) / (hi - lo));
      QCOMPARE(dots->dotColor(g, j), expected);
      if (rect.width() < 8) continue;  // too small to sample clear of the outline
      const QPoint centre = (rect.center() * image.devicePixelRatio()).toPoint();
      QVERIFY2(near(image.pixelColor(centre), expected, 3), qPrintable(image.pixelColor(centre).name() + " vs " + expected.name()));
      // Just outside the dot: background white.
      const QPoint outside = (QPointF(rect.right() + 2, rect.center().y()) * image.devicePixelRatio()).toPoint();
      QVERIFY(near(image.pixelColor(outside), Qt::white, 3));
      ++checked;
    }
  QVERIFY(checked >= 6);

  // The SVG export draws the same dots as vectors, in the same colours.
  QTemporaryDir dir;
  const QString svgPath = dir.filePath(QStringLiteral("dots.svg"));
  QVERIFY(window.exportPlot(svgPath));
  QFile svgFile(svgPath);
  QVERIFY(svgFile.open(QIODevice::ReadOnly));
  const QString svg = QString::fromUtf8(svgFile.readAll());
  QVERIFY(svg.count(QStringLiteral("<circle")) >= 12);  // 4 genes x 3 groups, and the size legend
  for (int g = 0; g < 3; ++g) QVERIFY2(svg.contains(dots->dotColor(g, 0).name(), Qt::CaseInsensitive), qPrintable(dots->dotColor(g, 0).name()));

  // The violins: each group's colour is drawn in its slot.
  window.plotTabs()->setCurrentIndex(1);
  cw::ui::ViolinPlot* violins = window.violinPlot();
  violins->resize(violins->sizeHint());
  const QImage violinImage = violins->grab().toImage();
  for (int g = 0; g < 3; ++g) {
    const QRect slot = violins->violinSlot(0, g).toRect();
    int n = 0;
    for (int y = slot.top(); y <= slot.bottom(); ++y)
      for (int x = slot.left(); x <= slot.right(); ++x) n += near(violinImage.pixelColor(QPoint(x, y) * violinImage.devicePixelRatio()), violins->groupColor(g), 2);
    QVERIFY2(n > 30, qPrintable(QStringLiteral("group %1: %2 pixels of its colour").arg(g).arg(n)));
  }
}

void TestDeWindow::tableSortsByColumn() {
  const QJsonObject r = reference();
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  document.setDataset(referenceDataset(r), QStringLiteral("reference"), false);
  cw::ui::DeWindow window(&document, &jobs);
  QVERIFY(window.setGroupComparison(QStringLiteral("group"), QStringLiteral("0")));
  QSignalSpy shown(&window, &cw::ui::DeWindow::resultShown);
  window.run();
  QVERIFY(shown.wait(20000));
  QTableWidget* t = window.table()->table();
  t->sortByColumn(3, Qt::AscendingOrder);  // p-value, smallest first
  for (int row = 1; row < t->rowCount(); ++row)
    QVERIFY(t->item(row - 1, 3)->data(Qt::DisplayRole).toDouble() <= t->item(row, 3)->data(Qt::DisplayRole).toDouble());
}

void TestDeWindow::lassoSelectionOpensTheTestAgainstTheRest() {
  cw::ui::MainWindow window;
  bool opened = false;
  window.openDataset(QStringLiteral(CELLWRIGHT_RESOURCE_DIR "/demo/seurat_pbmc_small_80.h5ad"), [&](bool ok, const QString&) { opened = ok; });
  QTRY_VERIFY_WITH_TIMEOUT(opened, 30000);
  const std::vector<int64_t> lasso{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  window.embeddingView()->setSelection(lasso);
  // What the embedding's context menu does with a lasso selection.
  Q_EMIT window.embeddingView()->differentialExpressionRequested(lasso);
  auto* de = window.findChild<cw::ui::DeWindow*>();
  QVERIFY(de);
  QSignalSpy shown(de, &cw::ui::DeWindow::resultShown);
  QVERIFY(shown.wait(30000));
  QCOMPARE(de->comparison().group, std::string("A"));
  QCOMPARE(de->comparison().reference, std::string("rest"));
  QCOMPARE(de->table()->table()->rowCount(), 230);  // every gene of the demo
  QCOMPARE(de->dotPlot()->summary().groups, (QStringList{"A", "rest"}));
  // A second lasso becomes B through the window's button.
  window.embeddingView()->setSelection({20, 21, 22, 23, 24});
  for (auto* button : de->findChildren<QPushButton*>())
    if (button->text().contains(QStringLiteral("as B"))) button->click();
  QVERIFY(de->findChild<QLabel*>(QStringLiteral("selectionB"))->text().startsWith(QStringLiteral("5 cells")));
  de->run();
  QVERIFY(shown.wait(30000));
  QCOMPARE(de->comparison().reference, std::string("B"));
  QCOMPARE(de->dotPlot()->summary().groups, (QStringList{"A", "B"}));
}

QTEST_MAIN(TestDeWindow)
#include "test_de_window.moc"
