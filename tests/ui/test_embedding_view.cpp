// The embedding view: VTK on our Qt 6 QOpenGLWidget draws what it should. The key test runs
// PCA -> neighbours -> UMAP -> Leiden on the demo through the job queue and checks, at the
// projected screen position of cells, that the drawn pixel has the cell's cluster colour.
#include <QApplication>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QWheelEvent>
#include <QtTest>

#include <cmath>
#include <set>

#include "cellwright/io/readers.h"
#include "cellwright/ui/analysis_steps.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/embedding_legend.h"
#include "cellwright/ui/embedding_view.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/main_window.h"
#include "cellwright/ui/palette.h"
#include "cellwright/ui/vtk_gl_widget.h"

static const QString kDemo = QStringLiteral(CELLWRIGHT_RESOURCE_DIR "/demo/seurat_pbmc_small_80.h5ad");

namespace {

bool near(QColor a, QColor b, int tolerance = 2) {
  return std::abs(a.red() - b.red()) <= tolerance && std::abs(a.green() - b.green()) <= tolerance &&
         std::abs(a.blue() - b.blue()) <= tolerance;
}

QColor pixelAt(const QImage& image, QPointF logical, qreal dpr) {
  const QPoint p(static_cast<int>(std::floor(logical.x() * dpr)), static_cast<int>(std::floor(logical.y() * dpr)));
  return image.pixelColor(p);
}

// Cells with no cell of another category drawn within `radius` pixels: their pixel can only
// show their own category's colour.
std::vector<int64_t> isolatedCells(const cw::ui::EmbeddingView& view, const std::vector<int32_t>& codes, double radius) {
  std::vector<QPointF> pos;
  for (size_t i = 0; i < codes.size(); ++i) pos.push_back(view.cellScreenPosition(static_cast<int64_t>(i)));
  std::vector<int64_t> out;
  for (size_t i = 0; i < codes.size(); ++i) {
    bool alone = true;
    for (size_t j = 0; j < codes.size() && alone; ++j)
      if (codes[j] != codes[i] && std::hypot(pos[i].x() - pos[j].x(), pos[i].y() - pos[j].y()) < radius) alone = false;
    if (alone) out.push_back(static_cast<int64_t>(i));
  }
  return out;
}

// A small synthetic dataset: cells on a grid in obsm["X_test"], two categories by column.
std::shared_ptr<const cw::Dataset> gridDataset(int side) {
  auto d = std::make_shared<cw::Dataset>();
  const int n = side * side;
  d->X.rows = n;
  d->X.cols = 1;
  d->X.indptr.assign(static_cast<size_t>(n) + 1, 0);
  cw::DenseMatrix m;
  m.rows = n;
  m.cols = 2;
  std::vector<int32_t> codes;
  for (int i = 0; i < n; ++i) {
    m.values.push_back(i % side);
    m.values.push_back(i / side);
    codes.push_back(i % side < side / 2 ? 0 : 1);
    d->obs.index.push_back("cell" + std::to_string(i));
  }
  d->obsm["X_test"] = m;
  d->obs.set("half", cw::Column::categorical(codes, {"left", "right"}));
  d->var.index = {"g"};
  return d;
}

}  // namespace

class TestEmbeddingView : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void leidenClustersOfTheDemoAreDrawnInTheirColours();
  void hidingACategoryRemovesItsCells();
  void geneExpressionIsReadByAJobAndDrawnWithViridis();
  void panZoomAndResetMoveTheProjection();
  void lassoSelectsTheCellsInside();
  void largeDatasetsDrawASubsampleWhileMoving();
  void paletteStaysDistinctForManyCategories();
  void screenshotOfTheEmbeddingFromTheRealApplication();
};

void TestEmbeddingView::leidenClustersOfTheDemoAreDrawnInTheirColours() {
  cw::ui::MainWindow window;
  window.resize(1000, 700);
  window.show();
  bool opened = false;
  window.openDataset(kDemo, [&](bool ok, const QString&) { opened = ok; });
  QTRY_VERIFY_WITH_TIMEOUT(opened, 30000);
  bool clustered = false;
  cw::ui::enqueueEmbedAndCluster(window.jobQueue(), window.document(), [&] { clustered = true; });
  QTRY_VERIFY_WITH_TIMEOUT(clustered, 60000);
  auto dataset = window.document()->dataset();
  QVERIFY(dataset->obsm.count("X_pca") && dataset->obsm.count("X_umap") && dataset->obs.has("leiden"));
  QVERIFY(window.document()->isModified());

  cw::ui::EmbeddingView* view = window.embeddingView();
  window.showView(view);
  QCOMPARE(view->embedding(), QStringLiteral("X_umap"));
  QVERIFY(view->setColorBy(QStringLiteral("leiden")));
  const cw::Column& leiden = dataset->obs.at("leiden");
  const int k = static_cast<int>(leiden.categories.size());
  QVERIFY2(k >= 2, "Leiden should find several clusters in the demo");
  QCOMPARE(view->legend()->count(), k);
  QVERIFY(QTest::qWaitForWindowExposed(&window));

  const QImage image = view->canvas()->grabFramebuffer();
  const qreal dpr = view->canvas()->devicePixelRatioF();
  QVERIFY(!image.isNull());
  const QVector<QColor> palette = cw::ui::categoricalPalette(k);
  const auto cells = isolatedCells(*view, leiden.codes, view->pointSize() * 1.5 + 2);
  QVERIFY2(cells.size() >= 20, qPrintable(QStringLiteral("only %1 isolated cells").arg(cells.size())));
  std::set<int32_t> clustersSeen;
  for (int64_t cell : cells) {
    const int32_t code = leiden.codes[static_cast<size_t>(cell)];
    const QColor expected = palette[code];
    const QColor drawn = pixelAt(image, view->cellScreenPosition(cell), dpr);
    QVERIFY2(near(drawn, expected), qPrintable(QStringLiteral("cell %1 (cluster %2) drawn %3, expected %4")
                                                   .arg(cell).arg(code).arg(drawn.name(), expected.name())));
    clustersSeen.insert(code);
  }
  QVERIFY(clustersSeen.size() >= 2);
  // The corners hold no cell: background is white.
  QCOMPARE(image.pixelColor(1, 1), QColor(Qt::white));
  QCOMPARE(image.pixelColor(image.width() - 2, image.height() - 2), QColor(Qt::white));
}

void TestEmbeddingView::hidingACategoryRemovesItsCells() {
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  cw::ui::EmbeddingView view(&document, &jobs);
  view.resize(600, 500);
  document.setDataset(gridDataset(6), QString(), false);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  QVERIFY(view.setColorBy(QStringLiteral("half")));
  QCOMPARE(view.legend()->item(0)->text(), QStringLiteral("left (18)"));
  const QColor left = cw::ui::categoricalPalette(2)[0];
  const qreal dpr = view.canvas()->devicePixelRatioF();
  QCOMPARE(pixelAt(view.canvas()->grabFramebuffer(), view.cellScreenPosition(0), dpr), left);
  view.legend()->item(0)->setCheckState(Qt::Unchecked);  // as a click on the check box
  QVERIFY(!view.isCellVisible(0));
  QCOMPARE(pixelAt(view.canvas()->grabFramebuffer(), view.cellScreenPosition(0), dpr), QColor(Qt::white));
  QCOMPARE(pixelAt(view.canvas()->grabFramebuffer(), view.cellScreenPosition(5), dpr), cw::ui::categoricalPalette(2)[1]);
}

void TestEmbeddingView::geneExpressionIsReadByAJobAndDrawnWithViridis() {
  // 16 cells; gene "CD3E" has expression i in cell i (cell 0 stores nothing).
  auto d = std::const_pointer_cast<cw::Dataset>(gridDataset(4));
  d->X.cols = 2;
  d->X.indptr = {0};
  for (int i = 0; i < 16; ++i) {
    if (i > 0) d->X.indices.push_back(1), d->X.data.push_back(static_cast<float>(i));
    d->X.indptr.push_back(static_cast<int64_t>(d->X.data.size()));
  }
  d->var.index = {"g", "CD3E"};
  cw::ui::Document document;
  cw::ui::JobQueue jobs;
  cw::ui::EmbeddingView view(&document, &jobs);
  view.resize(600, 500);
  document.setDataset(d, QString(), false);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  QSignalSpy applied(&view, &cw::ui::EmbeddingView::colorsApplied);
  QSignalSpy queued(&jobs, &cw::ui::JobQueue::jobQueued);
  QVERIFY(view.setColorBy(QStringLiteral("cd3e")));  // gene names are matched loosely
  QCOMPARE(queued.count(), 1);                         // read on the engine thread
  QTRY_COMPARE_WITH_TIMEOUT(applied.count(), 1, 10000);
  QCOMPARE(view.colorBy(), QStringLiteral("CD3E"));
  QCOMPARE(view.cellColor(0), cw::ui::viridis(0.0));
  QCOMPARE(view.cellColor(15), cw::ui::viridis(1.0));
  QCOMPARE(view.cellColor(5), cw::ui::viridis(5.0 / 15.0));
  const QImage image = view.canvas()->grabFramebuffer();
  const qreal dpr = view.canvas()->devicePixelRatioF();
  QCOMPARE(pixelAt(image, view.cellScreenPosition(15), dpr), cw::ui::viridis(1.0));
  QCOMPARE(pixelAt(image, view.cellScreenPosition(0), dpr), cw::ui::viridis(0.0));
  QVERIFY(view.findChild<cw::ui::ColorBar*>()->isVisible());
  QVERIFY(!view.legend()->isVisible());
  QVERIFY(!view.setColorBy(QStringLiteral("NOT_A_GENE")));
}

void TestEmbeddingView::panZoomAndResetMoveTheProjection() {
  cw::ui::Document document;
  cw::ui::EmbeddingView view(&document, nullptr);
  view.resize(600, 500);
  document.setDataset(gridDataset(4), QString(), false);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  const QPointF a = view.cellScreenPosition(0), b = view.cellScreenPosition(3);
  const QPointF centre(view.canvas()->width() / 2.0, view.canvas()->height() / 2.0);
  view.zoomAt(centre, 2.0);
  const QPointF a2 = view.cellScreenPosition(0), b2 = view.cellScreenPosition(3);
  QVERIFY(std::abs((b2.x() - a2.x()) - 2 * (b.x() - a.x())) < 0.5);
  view.panBy(QPointF(10, -5));
  const QPointF a3 = view.cellScreenPosition(0);
  QVERIFY(std::abs(a3.x() - a2.x() - 10) < 0.5 && std::abs(a3.y() - a2.y() + 5) < 0.5);
  view.resetCamera();
  QVERIFY(std::abs(view.cellScreenPosition(0).x() - a.x()) < 0.5);
  // Cell 0 sits at the bottom left of the grid: lower on screen than cell 15 (top right).
  QVERIFY(view.cellScreenPosition(0).y() > view.cellScreenPosition(15).y());
}

void TestEmbeddingView::lassoSelectsTheCellsInside() {
  cw::ui::Document document;
  cw::ui::EmbeddingView view(&document, nullptr);
  view.resize(600, 500);
  document.setDataset(gridDataset(4), QString(), false);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  // A lasso around the bottom row (cells 0..3) traced with Shift + drag.
  const QPointF p0 = view.cellScreenPosition(0), p3 = view.cellScreenPosition(3), p4 = view.cellScreenPosition(4);
  const double gap = (p0.y() - p4.y()) / 2;
  QWidget* canvas = view.canvas();
  const QPolygonF path{{p0.x() - gap, p0.y() - gap}, {p3.x() + gap, p3.y() - gap}, {p3.x() + gap, p3.y() + gap}, {p0.x() - gap, p0.y() + gap}};
  QSignalSpy changed(&view, &cw::ui::EmbeddingView::selectionChanged);
  QTest::mousePress(canvas, Qt::LeftButton, Qt::ShiftModifier, path[0].toPoint());
  for (int i = 1; i < path.size(); ++i) {
    QMouseEvent move(QEvent::MouseMove, path[i], canvas->mapToGlobal(path[i]), Qt::NoButton, Qt::LeftButton, Qt::ShiftModifier);
    QApplication::sendEvent(canvas, &move);
  }
  QTest::mouseRelease(canvas, Qt::LeftButton, Qt::ShiftModifier, path[0].toPoint());
  QCOMPARE(changed.count(), 1);
  QCOMPARE(view.selection(), (std::vector<int64_t>{0, 1, 2, 3}));
  // Selected cells get a black outline around their colour.
  const QImage image = view.canvas()->grabFramebuffer();
  const QPointF c = view.cellScreenPosition(1);
  const int edge = view.pointSize() / 2 + 1;
  QCOMPARE(image.pixelColor(QPoint(static_cast<int>(c.x()) + edge, static_cast<int>(c.y()))), QColor(Qt::black));
  QVERIFY(image.pixelColor(c.toPoint()) != QColor(Qt::black));
}

void TestEmbeddingView::largeDatasetsDrawASubsampleWhileMoving() {
  cw::ui::Document document;
  cw::ui::EmbeddingView view(&document, nullptr);
  view.resize(500, 400);
  document.setDataset(gridDataset(250), QString(), false);  // 62,500 cells
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  QVERIFY(!view.isShowingLevelOfDetail());
  const QPointF centre(view.canvas()->width() / 2.0, view.canvas()->height() / 2.0);
  QWheelEvent wheel(centre, view.canvas()->mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                    Qt::NoScrollPhase, false);
  QApplication::sendEvent(view.canvas(), &wheel);
  QVERIFY(view.isShowingLevelOfDetail());
  QTRY_VERIFY_WITH_TIMEOUT(!view.isShowingLevelOfDetail(), 2000);  // full detail once the wheel stops
}

void TestEmbeddingView::paletteStaysDistinctForManyCategories() {
  const QVector<QColor> colors = cw::ui::categoricalPalette(40);
  QCOMPARE(colors[0], QColor(0x1f, 0x77, 0xb4));  // scanpy's first colour
  for (int i = 0; i < colors.size(); ++i)
    for (int j = i + 1; j < colors.size(); ++j) {
      const double d = std::hypot(colors[i].redF() - colors[j].redF(), colors[i].greenF() - colors[j].greenF(), colors[i].blueF() - colors[j].blueF());
      QVERIFY2(d > 0.05, qPrintable(QStringLiteral("colours %1 and %2 nearly equal").arg(i).arg(j)));
    }
  QCOMPARE(cw::ui::viridis(0.0), QColor(0x44, 0x01, 0x54));
  QCOMPARE(cw::ui::viridis(1.0), QColor(0xfd, 0xe7, 0x25));
}

void TestEmbeddingView::screenshotOfTheEmbeddingFromTheRealApplication() {
  // The demo with a made-up embedding: each cell type around its own centre.
  auto read = cw::io::readDataset(kDemo.toStdString());
  cw::Dataset d = std::move(read.dataset);
  const cw::Column& type = d.obs.at("cell_type");
  cw::DenseMatrix m;
  m.rows = d.nObs();
  m.cols = 2;
  for (int64_t i = 0; i < m.rows; ++i) {
    const int32_t c = type.codes[static_cast<size_t>(i)];
    m.values.push_back(10.0 * c + 0.05 * static_cast<double>(i % 7));
    m.values.push_back(3.0 * (c % 2) + 0.05 * static_cast<double>(i % 5));
  }
  d.obsm["X_umap"] = m;
  QTemporaryDir dir;
  const QString input = dir.filePath(QStringLiteral("with_umap.h5ad"));
  cw::io::writeH5ad(d, input.toStdString());
  const QString out = dir.filePath(QStringLiteral("umap.png"));
  QProcess app;
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH), {QStringLiteral("--open"), input, QStringLiteral("--view"), QStringLiteral("umap"),
                                                  QStringLiteral("--color-by"), QStringLiteral("cell_type"), QStringLiteral("--screenshot"), out,
                                                  QStringLiteral("--view-only")});
  QVERIFY(app.waitForFinished(60000));
  QCOMPARE(app.exitCode(), 0);
  QImage image(out);
  QVERIFY(!image.isNull());
  const QVector<QColor> palette = cw::ui::categoricalPalette(static_cast<int>(type.categories.size()));
  std::set<int> found;
  // Only the scatter (left of the legend, whose swatches use the same colours).
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width() - 300; ++x)
      for (int c = 0; c < palette.size(); ++c)
        if (image.pixelColor(x, y) == palette[c]) found.insert(c);
  QCOMPARE(static_cast<int>(found.size()), static_cast<int>(palette.size()));  // every cell type drawn (and in the legend)

  QProcess missing;
  missing.start(QStringLiteral(CELLWRIGHT_GUI_PATH), {QStringLiteral("--open"), input, QStringLiteral("--view"), QStringLiteral("umap"),
                                                      QStringLiteral("--color-by"), QStringLiteral("no_such_column"),
                                                      QStringLiteral("--screenshot"), out});
  QVERIFY(missing.waitForFinished(60000));
  QVERIFY(missing.exitCode() != 0);
  QVERIFY(missing.readAllStandardError().contains("no_such_column"));
}

QTEST_MAIN(TestEmbeddingView)
#include "test_embedding_view.moc"
