#pragma once
// The side panels of the embedding view: a categorical legend (colour, name, cell count;
// unticking an entry hides those cells) and a colour bar for numeric values.
#include <QColor>
#include <QListWidget>
#include <QString>
#include <QVector>
#include <QWidget>

namespace cw::ui {

class CategoryLegend : public QListWidget {
  Q_OBJECT
 public:
  explicit CategoryLegend(QWidget* parent = nullptr);
  void setCategories(const QStringList& names, const QVector<QColor>& colors, const QVector<qint64>& counts);
  bool isCategoryVisible(int category) const;

 Q_SIGNALS:
  void visibilityChanged(int category, bool visible);
};

class ColorBar : public QWidget {
  Q_OBJECT
 public:
  explicit ColorBar(QWidget* parent = nullptr);
  void setRange(const QString& title, double minimum, double maximum);
  QSize sizeHint() const override { return {90, 240}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QString title_;
  double min_ = 0, max_ = 1;
};

}  // namespace cw::ui
