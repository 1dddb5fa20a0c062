#include "cellwright/ui/application.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QSettings>
#include <QTableView>
#include <QTimer>

#include <cstdio>

#include "cellwright/compute/device.h"
#include "cellwright/core/version.h"
#include "cellwright/ui/main_window.h"

namespace cw::ui {

namespace {

struct GuiOptions {
  QString open, run, view = QStringLiteral("table"), colorBy, screenshot;
  bool viewOnly = false;
};

GuiOptions parseOptions(QApplication& app) {
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Cellwright: single-cell foundation models"));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption open(QStringLiteral("open"), QStringLiteral("Dataset to open."), QStringLiteral("FILE"));
  QCommandLineOption run(QStringLiteral("run"), QStringLiteral("Run folder to show."), QStringLiteral("RUN"));
  QCommandLineOption view(QStringLiteral("view"), QStringLiteral("View to show: table, umap, paga, confusion, roc."),
                          QStringLiteral("VIEW"), QStringLiteral("table"));
  QCommandLineOption colorBy(QStringLiteral("color-by"), QStringLiteral("Annotation to colour cells by."), QStringLiteral("COL"));
  QCommandLineOption screenshot(QStringLiteral("screenshot"), QStringLiteral("Write a screenshot and exit."), QStringLiteral("OUT.png"));
  QCommandLineOption viewOnly(QStringLiteral("view-only"), QStringLiteral("Screenshot only the view, not the window."));
  parser.addOptions({open, run, view, colorBy, screenshot, viewOnly});
  parser.process(app);  // exits 0 on --help/--version, 1 on unknown options
  GuiOptions o;
  o.open = parser.value(open);
  o.run = parser.value(run);
  o.view = parser.value(view);
  o.colorBy = parser.value(colorBy);
  o.screenshot = parser.value(screenshot);
  o.viewOnly = parser.isSet(viewOnly);
  return o;
}

void fail(const QString& message) {
  std::fprintf(stderr, "cellwright: %s\n", qPrintable(message));
  QCoreApplication::exit(1);
}

// Renders the requested view and saves it; exits the event loop with the outcome.
void takeScreenshot(MainWindow& window, const GuiOptions& options) {
  QWidget* target = &window;
  if (options.viewOnly) {
    if (options.view == QStringLiteral("table")) target = window.cellTable();
    else return fail(QStringLiteral("view '%1' is not available in this build").arg(options.view));
  }
  const QImage image = target->grab().toImage();
  if (image.isNull() || !image.save(options.screenshot)) return fail(QStringLiteral("could not write %1").arg(options.screenshot));
  QCoreApplication::exit(0);
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
  window.show();

  auto afterLoad = [&window, options](bool ok, const QString& message) {
    if (!ok) {
      if (!options.screenshot.isEmpty()) fail(message);
      return;
    }
    if (!options.screenshot.isEmpty())
      // Let layouts settle and the first paint happen before grabbing.
      QTimer::singleShot(100, &window, [&window, options] { takeScreenshot(window, options); });
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
