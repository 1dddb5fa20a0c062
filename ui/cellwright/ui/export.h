#pragma once
// Exports of what a view shows: PNG at a chosen size, SVG (vector for painter-drawn views;
// the OpenGL embedding is embedded as an image), and any table model as CSV.
#include <QSize>
#include <QString>

class QAbstractItemModel;
class QWidget;

namespace cw::ui {

// Renders `view` at `size` pixels (its layout re-flowed at that size when it is painter-drawn).
bool exportPng(QWidget* view, const QString& path, QSize size);
bool exportSvg(QWidget* view, const QString& path);
// Header row then every row, as shown (DisplayRole); quotes fields holding , " or newlines.
bool exportCsv(const QAbstractItemModel* model, const QString& path);

}  // namespace cw::ui
