#include "cellwright/ui/export.h"

#include <QAbstractItemModel>
#include <QFile>
#include <QImage>
#include <QOpenGLWidget>
#include <QPainter>
#include <QSvgGenerator>
#include <QTextStream>
#include <QWidget>

namespace cw::ui {

namespace {

QString csvField(QString text) {
  if (text.contains(QLatin1Char(',')) || text.contains(QLatin1Char('"')) || text.contains(QLatin1Char('\n')))
    return QLatin1Char('"') + text.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
  return text;
}

bool containsOpenGl(QWidget* view) {
  return qobject_cast<QOpenGLWidget*>(view) || !view->findChildren<QOpenGLWidget*>().isEmpty();
}

}  // namespace

bool exportPng(QWidget* view, const QString& path, QSize size) {
  if (!view || size.isEmpty()) return false;
  QImage image;
  if (containsOpenGl(view)) {
    // The GL frame only exists at the widget's size: draw it there, then scale smoothly.
    image = view->grab().toImage().scaled(size, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
  } else {
    const QSize original = view->size();
    view->resize(size);  // layouts re-flow, text stays crisp
    image = QImage(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    view->render(&image);
    view->resize(original);
  }
  return image.save(path, "PNG");
}

bool exportSvg(QWidget* view, const QString& path) {
  if (!view) return false;
  QSvgGenerator generator;
  generator.setFileName(path);
  generator.setSize(view->size());
  generator.setViewBox(QRect(QPoint(0, 0), view->size()));
  generator.setTitle(view->windowTitle().isEmpty() ? QStringLiteral("Cellwright view") : view->windowTitle());
  QPainter painter;
  if (!painter.begin(&generator)) return false;
  if (containsOpenGl(view)) painter.drawImage(0, 0, view->grab().toImage());
  else view->render(&painter);
  return painter.end() && QFile::exists(path);
}

bool exportCsv(const QAbstractItemModel* model, const QString& path) {
  QFile file(path);
  if (!model || !file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
  QTextStream out(&file);
  QStringList header;
  for (int c = 0; c < model->columnCount(); ++c) header << csvField(model->headerData(c, Qt::Horizontal).toString());
  out << header.join(QLatin1Char(',')) << '\n';
  for (int r = 0; r < model->rowCount(); ++r) {
    QStringList row;
    for (int c = 0; c < model->columnCount(); ++c) row << csvField(model->index(r, c).data().toString());
    out << row.join(QLatin1Char(',')) << '\n';
  }
  out.flush();
  return file.error() == QFile::NoError;
}

}  // namespace cw::ui
