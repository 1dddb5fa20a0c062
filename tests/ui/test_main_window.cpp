// The GUI shell: opening the demo dataset through the job queue, and the scripted
// screenshot of the real application binary (checked for drawn content, not just a file).
#include <QDockWidget>
#include <QLabel>
#include <QProcess>
#include <QSet>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include "cellwright/ui/document.h"
#include "cellwright/ui/main_window.h"

static const QString kDemo = QStringLiteral(CELLWRIGHT_RESOURCE_DIR "/demo/seurat_pbmc_small_80.h5ad");

class TestMainWindow : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void opensTheDemoDatasetThroughTheJobQueue();
  void badFileReportsFailureAndKeepsTheWindowUsable();
  void screenshotOfTheRealApplicationShowsTheDataset();
  void screenshotOfAMissingFileExitsNonZero();
};

void TestMainWindow::opensTheDemoDatasetThroughTheJobQueue() {
  cw::ui::MainWindow window;
  window.show();
  QSignalSpy changed(window.document(), &cw::ui::Document::datasetChanged);
  bool ok = false;
  bool called = false;
  window.openDataset(kDemo, [&](bool success, const QString&) {
    ok = success;
    called = true;
  });
  QTRY_VERIFY_WITH_TIMEOUT(called, 30000);
  QVERIFY(ok);
  QCOMPARE(changed.count(), 1);
  QCOMPARE(window.document()->dataset()->nObs(), 80);
  QCOMPARE(window.document()->dataset()->nVars(), 230);
  QCOMPARE(window.cellTable()->model()->rowCount(), 80);
  auto* tree = window.findChild<QTreeWidget*>(QStringLiteral("datasetTree"));
  QVERIFY(tree);
  QCOMPARE(tree->findItems(QStringLiteral("Cells"), Qt::MatchExactly).value(0)->text(1), QStringLiteral("80"));
  auto* device = window.findChild<QLabel*>(QStringLiteral("deviceLabel"));
  QVERIFY(device && device->text().startsWith(QStringLiteral("CPU (")));
  for (const char* dock : {"datasetDock", "jobsDock", "logDock"}) QVERIFY(window.findChild<QDockWidget*>(QString::fromLatin1(dock)));
}

void TestMainWindow::badFileReportsFailureAndKeepsTheWindowUsable() {
  QTemporaryDir dir;
  const QString bogus = dir.filePath(QStringLiteral("not_hdf5.h5ad"));
  QFile f(bogus);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write("this is not an HDF5 file");
  f.close();
  cw::ui::MainWindow window;
  bool called = false, ok = true;
  QString message;
  window.openDataset(bogus, [&](bool success, const QString& m) {
    called = true;
    ok = success;
    message = m;
  });
  QTRY_VERIFY_WITH_TIMEOUT(called, 30000);
  QVERIFY(!ok);
  QVERIFY2(!message.isEmpty() && !message.contains(QLatin1Char('\n')), qPrintable(message));
  QVERIFY(window.document()->isEmpty());
  // The engine thread survived: the demo still opens afterwards.
  called = false;
  window.openDataset(kDemo, [&](bool success, const QString&) {
    called = true;
    ok = success;
  });
  QTRY_VERIFY_WITH_TIMEOUT(called, 30000);
  QVERIFY(ok);
}

void TestMainWindow::screenshotOfTheRealApplicationShowsTheDataset() {
  QTemporaryDir dir;
  const QString png = dir.filePath(QStringLiteral("shot.png"));
  QProcess app;
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH), {QStringLiteral("--open"), kDemo, QStringLiteral("--screenshot"), png});
  QVERIFY(app.waitForFinished(120000));
  QCOMPARE(app.exitStatus(), QProcess::NormalExit);
  QVERIFY2(app.exitCode() == 0, app.readAllStandardError().constData());
  QImage image(png);
  QVERIFY(!image.isNull());
  QVERIFY(image.width() >= 800 && image.height() >= 500);
  // Not blank: many distinct colours, and plenty of dark (text) pixels on a light window.
  QSet<QRgb> colours;
  qint64 dark = 0;
  for (int y = 0; y < image.height(); y += 2)
    for (int x = 0; x < image.width(); x += 2) {
      const QRgb p = image.pixel(x, y);
      colours.insert(p);
      dark += qGray(p) < 80;
    }
  QVERIFY2(colours.size() > 20, qPrintable(QStringLiteral("%1 colours").arg(colours.size())));
  QVERIFY2(dark > 500, qPrintable(QStringLiteral("%1 dark pixels").arg(dark)));
  // The table shows the demo's cells: the cell-table-only screenshot differs from an empty one.
  const QString tableOnly = dir.filePath(QStringLiteral("table.png"));
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH),
            {QStringLiteral("--open"), kDemo, QStringLiteral("--screenshot"), tableOnly, QStringLiteral("--view-only")});
  QVERIFY(app.waitForFinished(120000));
  QCOMPARE(app.exitCode(), 0);
  const QString emptyTable = dir.filePath(QStringLiteral("empty.png"));
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH), {QStringLiteral("--screenshot"), emptyTable, QStringLiteral("--view-only")});
  QVERIFY(app.waitForFinished(120000));
  QCOMPARE(app.exitCode(), 0);
  QImage filled(tableOnly), empty(emptyTable);
  auto darkCount = [](const QImage& im) {
    qint64 n = 0;
    for (int y = 0; y < im.height(); ++y)
      for (int x = 0; x < im.width(); ++x) n += qGray(im.pixel(x, y)) < 100;
    return n;
  };
  QVERIFY2(darkCount(filled) > darkCount(empty) + 1000,
           qPrintable(QStringLiteral("filled %1 vs empty %2").arg(darkCount(filled)).arg(darkCount(empty))));
}

void TestMainWindow::screenshotOfAMissingFileExitsNonZero() {
  QTemporaryDir dir;
  QProcess app;
  app.start(QStringLiteral(CELLWRIGHT_GUI_PATH),
            {QStringLiteral("--open"), dir.filePath(QStringLiteral("missing.h5ad")), QStringLiteral("--screenshot"),
             dir.filePath(QStringLiteral("x.png"))});
  QVERIFY(app.waitForFinished(60000));
  QVERIFY(app.exitCode() != 0);
  QVERIFY(app.readAllStandardError().contains("missing.h5ad"));
  QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("x.png"))));
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
