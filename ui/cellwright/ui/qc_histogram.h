#pragma once
// A histogram of one per-cell quality-control metric (genes per cell, counts per cell,
// percent mitochondrial) drawn with QtCharts, with the filter thresholds as vertical lines
// that follow the dialog's spin boxes.
#include <QChartView>
#include <QColor>

#include <cstdint>
#include <vector>

class QAreaSeries;
class QLineSeries;
class QValueAxis;

namespace cw::ui {

// Equal-width bins over [min, max] of `values` (the last bin includes the maximum, as numpy).
struct Histogram {
  double start = 0;
  double width = 1;
  std::vector<int64_t> counts;
  // The bin that holds `value` (clamped to the first / last bin).
  int binOf(double value) const;
};
Histogram makeHistogram(const std::vector<double>& values, int bins);

class QcHistogram : public QChartView {
  Q_OBJECT
 public:
  enum Bound { Lower = 0, Upper = 1 };
  static constexpr int kBins = 50;
  static QColor barColor() { return QColor(31, 119, 180); }
  static QColor thresholdColor() { return QColor(214, 39, 40); }

  QcHistogram(const QString& title, const QString& axisTitle, QWidget* parent = nullptr);

  void setValues(std::vector<double> values);
  const std::vector<double>& values() const { return values_; }
  const Histogram& histogram() const { return histogram_; }

  // Shows (or hides) the lower / upper threshold line at `value` on the metric's axis.
  void setThreshold(Bound bound, double value, bool shown);
  bool isThresholdShown(Bound bound) const;
  double thresholdValue(Bound bound) const;
  QLineSeries* thresholdSeries(Bound bound) const { return thresholds_[bound]; }
  // Where a metric value lies in the widget, in pixels (for tests and tooltips).
  QPointF mapToWidget(const QPointF& value) const;

 private:
  void rescale();

  std::vector<double> values_;
  Histogram histogram_;
  QAreaSeries* bars_;
  QLineSeries* outline_;
  QLineSeries* thresholds_[2];
  QValueAxis *x_, *y_;
};

}  // namespace cw::ui
