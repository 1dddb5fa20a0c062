#include "cellwright/ui/embedding_legend.h"

#include <QPainter>
#include <QPixmap>

#include "cellwright/ui/palette.h"

namespace cw::ui {

CategoryLegend::CategoryLegend(QWidget* parent) : QListWidget(parent) {
  setObjectName(QStringLiteral("categoryLegend"));
  setToolTip(tr("Untick a category to hide its cells"));
  connect(this, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
    Q_EMIT visibilityChanged(row(item), item->checkState() == Qt::Checked);
  });
}

void CategoryLegend::setCategories(const QStringList& names, const QVector<QColor>& colors,
                                   const QVector<qint64>& counts) {
  QSignalBlocker block(this);
  clear();
  for (int i = 0; i < names.size(); ++i) {
    QPixmap swatch(12, 12);
    swatch.fill(colors.value(i));
    auto* item = new QListWidgetItem(QIcon(swatch), QStringLiteral("%1 (%2)").arg(names[i]).arg(counts.value(i)), this);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
    item->setCheckState(Qt::Checked);
  }
}

bool CategoryLegend::isCategoryVisible(int category) const {
  const QListWidgetItem* it = item(category);
  return !it || it->checkState() == Qt::Checked;
}

ColorBar::ColorBar(QWidget* parent) : QWidget(parent) { setObjectName(QStringLiteral("colorBar")); }

void ColorBar::setRange(const QString& title, double minimum, double maximum) {
  title_ = title;
  min_ = minimum;
  max_ = maximum;
  update();
}

void ColorBar::paintEvent(QPaintEvent*) {
  QPainter p(this);
  const QFontMetrics fm = fontMetrics();
  const int top = fm.height() * 2, bottom = height() - fm.height();
  const QRect bar(6, top, 18, std::max(10, bottom - top));
  QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
  for (int i = 0; i <= 10; ++i) gradient.setColorAt(i / 10.0, viridis(i / 10.0));
  p.fillRect(bar, gradient);
  p.setPen(palette().color(QPalette::WindowText));
  p.drawRect(bar.adjusted(0, 0, -1, -1));
  p.drawText(QRect(0, 0, width(), top - 4), Qt::AlignLeft | Qt::AlignBottom | Qt::TextWordWrap, title_);
  for (int i = 0; i <= 4; ++i) {
    const double value = min_ + (max_ - min_) * i / 4.0;
    const int y = bar.bottom() - bar.height() * i / 4;
    p.drawLine(bar.right(), y, bar.right() + 4, y);
    p.drawText(bar.right() + 7, y + fm.ascent() / 2, QString::number(value, 'g', 3));
  }
}

}  // namespace cw::ui
