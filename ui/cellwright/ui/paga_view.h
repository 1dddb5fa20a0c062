#pragma once
// The PAGA graph of uns['paga']: one node per group (area proportional to its cells, the
// group's colour), edges as wide as their connectivity, hidden below a threshold (default
// 0.01, scanpy's); the tree toggle shows only the spanning tree. Clicking a node asks to
// highlight its cells.
#include <QPointF>
#include <QVector>
#include <QWidget>

#include <memory>

#include "cellwright/io/dataset.h"

class QCheckBox;
class QLabel;
class QSlider;

namespace cw::ui {

class Document;

class PagaCanvas : public QWidget {
  Q_OBJECT
 public:
  explicit PagaCanvas(QWidget* parent = nullptr);
  void setGraph(QStringList groups, QVector<qint64> sizes, QVector<QColor> colors, QVector<QPointF> positions,
                QVector<QVector<double>> connectivities, QVector<QVector<double>> tree);
  void setThreshold(double threshold);
  void setShowTree(bool tree);
  double threshold() const { return threshold_; }
  int nodeCount() const { return static_cast<int>(groups_.size()); }
  QPointF nodeCenter(int node) const;  // widget pixels
  double nodeRadius(int node) const;
  bool isEdgeShown(int a, int b) const;
  QSize sizeHint() const override { return {600, 500}; }

 Q_SIGNALS:
  void nodeClicked(int node);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  double weight(int a, int b) const;

  QStringList groups_;
  QVector<qint64> sizes_;
  QVector<QColor> colors_;
  QVector<QPointF> positions_;  // layout units
  QVector<QVector<double>> connectivities_, tree_;
  double threshold_ = 0.01;
  bool showTree_ = false;
};

class PagaView : public QWidget {
  Q_OBJECT
 public:
  explicit PagaView(Document* document, QWidget* parent = nullptr);
  PagaCanvas* canvas() const { return canvas_; }
  QSlider* thresholdSlider() const { return slider_; }
  QCheckBox* treeToggle() const { return tree_; }
  QString groupsKey() const { return groupsKey_; }
  bool hasGraph() const { return canvas_->nodeCount() > 0; }

 Q_SIGNALS:
  // Cells of the clicked group, for the embedding to highlight.
  void groupCellsRequested(const std::vector<int64_t>& cells);

 private:
  void onDatasetChanged();

  Document* document_;
  PagaCanvas* canvas_;
  QSlider* slider_;
  QLabel* thresholdLabel_;
  QCheckBox* tree_;
  QLabel* message_;
  QString groupsKey_;
};

}  // namespace cw::ui
