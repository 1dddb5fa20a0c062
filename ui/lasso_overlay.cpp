#include "cellwright/ui/lasso_overlay.h"

#include <QPainter>

namespace cw::ui {

LassoOverlay::LassoOverlay(QWidget* parent) : QWidget(parent) {
  setAttribute(Qt::WA_TransparentForMouseEvents);
  setAttribute(Qt::WA_NoSystemBackground);
  hide();
}

void LassoOverlay::start(const QPointF& point) {
  polygon_ = QPolygonF{point};
  setGeometry(parentWidget()->rect());
  show();
  raise();
  update();
}

void LassoOverlay::add(const QPointF& point) {
  if (polygon_.isEmpty()) return;
  polygon_ << point;
  update();
}

QPolygonF LassoOverlay::finish() {
  QPolygonF closed = polygon_;
  polygon_.clear();
  hide();
  return closed;
}

void LassoOverlay::paintEvent(QPaintEvent*) {
  if (polygon_.size() < 2) return;
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.setPen(QPen(QColor(20, 20, 20), 1.5, Qt::DashLine));
  p.setBrush(QColor(30, 120, 220, 40));
  p.drawPolygon(polygon_);
}

}  // namespace cw::ui
