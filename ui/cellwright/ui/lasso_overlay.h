#pragma once
// A transparent child of the canvas that draws the lasso being traced (Qt composes child
// widgets over the OpenGL view, so VTK's frame is left alone).
#include <QPolygonF>
#include <QWidget>

namespace cw::ui {

class LassoOverlay : public QWidget {
  Q_OBJECT
 public:
  explicit LassoOverlay(QWidget* parent);
  void start(const QPointF& point);
  void add(const QPointF& point);
  QPolygonF finish();  // the closed polygon; the overlay is cleared
  bool isActive() const { return !polygon_.isEmpty(); }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QPolygonF polygon_;
};

}  // namespace cw::ui
