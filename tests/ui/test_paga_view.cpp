// The PAGA view draws uns['paga'] of a hand-made dataset: node areas follow the group
// sizes, node colours the group palette, edges appear above the threshold only (0.01 by
// default), the tree toggle keeps the tree edges, and a node click selects its cells.
#include <QCheckBox>
#include <QSignalSpy>
#include <QSlider>
#include <QtTest>

#include "cellwright/ui/document.h"
#include "cellwright/ui/embedding_view.h"
#include "cellwright/ui/main_window.h"
#include "cellwright/ui/paga_view.h"
#include "cellwright/ui/palette.h"

namespace {

cw::CsrMatrix csr(const std::vector<std::vector<double>>& dense) {
  cw::CsrMatrix m;
  m.rows = m.cols = static_cast<int64_t>(dense.size());
  m.indptr = {0};
  for (const auto& row : dense) {
    for (size_t j = 0; j < row.size(); ++j)
      if (row[j] != 0) m.indices.push_back(static_cast<int32_t>(j)), m.data.push_back(static_cast<float>(row[j]));
    m.indptr.push_back(static_cast<int64_t>(m.data.size()));
  }
  return m;
}

// Groups a (10 cells), b (20), c (40) in a row; a-b strong, b-c medium, a-c below 0.01.
std::shared_ptr<const cw::Dataset> pagaDataset() {
  auto d = std::make_shared<cw::Dataset>();
  std::vector<int32_t> codes;
  for (int g = 0, sizes[3] = {10, 20, 40}; g < 3; ++g)
    for (int i = 0; i < sizes[g]; ++i) codes.push_back(g);
  const int n = static_cast<int>(codes.size());
  d->X.rows = n;
  d->X.cols = 1;
  d->X.indptr.assign(static_cast<size_t>(n) + 1, 0);
  for (int i = 0; i < n; ++i) d->obs.index.push_back("cell" + std::to_string(i));
  d->obs.set("leiden", cw::Column::categorical(codes, {"a", "b", "c"}));
  d->var.index = {"g"};
  cw::UnsDict paga;
  paga["connectivities"].value = csr({{0, 0.5, 0.005}, {0.5, 0, 0.2}, {0.005, 0.2, 0}});
  paga["connectivities_tree"].value = csr({{0, 0.5, 0}, {0, 0, 0.2}, {0, 0, 0}});
  paga["groups"].value = std::string("leiden");
  cw::DenseMatrix pos;
  pos.rows = 3;
  pos.cols = 2;
  pos.values = {0, 0, 1, 1, 2, 0};
  paga["pos"].value = pos;
  d->uns["paga"].value = paga;
  return d;
}

QColor at(const QImage& image, QPointF p) { return image.pixelColor(p.toPoint()); }

}  // namespace

class TestPagaView : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void drawsNodesAndEdgesAboveTheThreshold();
  void clickingANodeSelectsItsCells();
};

void TestPagaView::drawsNodesAndEdgesAboveTheThreshold() {
  cw::ui::Document document;
  cw::ui::PagaView view(&document);
  view.resize(700, 500);
  document.setDataset(pagaDataset(), QString(), false);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  cw::ui::PagaCanvas* canvas = view.canvas();
  QCOMPARE(canvas->nodeCount(), 3);
  QCOMPARE(canvas->threshold(), 0.01);
  // Area follows cells: radius ratios of sqrt(10):sqrt(20):sqrt(40) on top of a fixed minimum.
  QVERIFY(canvas->nodeRadius(0) < canvas->nodeRadius(1) && canvas->nodeRadius(1) < canvas->nodeRadius(2));
  QImage image = canvas->grab().toImage();
  const QVector<QColor> palette = cw::ui::categoricalPalette(3);
  for (int i = 0; i < 3; ++i) QCOMPARE(at(image, canvas->nodeCenter(i)), palette[i]);
  auto mid = [&](int a, int b) { return (canvas->nodeCenter(a) + canvas->nodeCenter(b)) / 2; };
  QVERIFY(at(image, mid(0, 1)) != QColor(Qt::white));  // 0.5: drawn
  QVERIFY(at(image, mid(1, 2)) != QColor(Qt::white));  // 0.2: drawn
  QCOMPARE(at(image, mid(0, 2)), QColor(Qt::white));   // 0.005 < 0.01: hidden
  QVERIFY(!canvas->isEdgeShown(0, 2));
  view.thresholdSlider()->setValue(30);  // 0.30
  image = canvas->grab().toImage();
  QCOMPARE(at(image, mid(1, 2)), QColor(Qt::white));
  QVERIFY(at(image, mid(0, 1)) != QColor(Qt::white));
  view.thresholdSlider()->setValue(0);
  QVERIFY(canvas->isEdgeShown(0, 2));
  view.treeToggle()->setChecked(true);
  QVERIFY(!canvas->isEdgeShown(0, 2));  // not a tree edge
  QVERIFY(canvas->isEdgeShown(1, 2));
}

void TestPagaView::clickingANodeSelectsItsCells() {
  cw::ui::MainWindow window;
  window.document()->setDataset(pagaDataset(), QString(), false);
  window.showView(window.pagaView());
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  cw::ui::PagaCanvas* canvas = window.pagaView()->canvas();
  QTest::mouseClick(canvas, Qt::LeftButton, Qt::NoModifier, canvas->nodeCenter(1).toPoint());
  const auto& selection = window.embeddingView()->selection();
  QCOMPARE(static_cast<int>(selection.size()), 20);
  QCOMPARE(selection.front(), 10);
  QCOMPARE(selection.back(), 29);
}

QTEST_MAIN(TestPagaView)
#include "test_paga_view.moc"
