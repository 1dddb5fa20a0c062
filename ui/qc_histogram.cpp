#include "cellwright/ui/qc_histogram.h"

#include <QAreaSeries>
#include <QChart>
#include <QLineSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace cw::ui {

int Histogram::binOf(double value) const {
  if (counts.empty()) return -1;
  const int last = static_cast<int>(counts.size()) - 1;
  const double bin = std::floor((value - start) / width);
  return static_cast<int>(std::clamp(bin, 0.0, static_cast<double>(last)));
}

Histogram makeHistogram(const std::vector<double>& values, int bins) {
  Histogram h;
  h.counts.assign(static_cast<size_t>(std::max(bins, 1)), 0);
  if (values.empty()) return h;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  h.start = *lo;
  h.width = *hi > *lo ? (*hi - *lo) / static_cast<double>(h.counts.size()) : 1.0;
  for (double v : values) ++h.counts[static_cast<size_t>(h.binOf(v))];
  return h;
}

QcHistogram::QcHistogram(const QString& title, const QString& axisTitle, QWidget* parent) : QChartView(parent) {
  auto* chart = new QChart;
  chart->setTitle(title);
  chart->legend()->hide();
  outline_ = new QLineSeries;
  bars_ = new QAreaSeries(outline_);
  bars_->setBrush(barColor());
  bars_->setPen(QPen(barColor(), 1));
  chart->addSeries(bars_);
  x_ = new QValueAxis;
  y_ = new QValueAxis;
  x_->setTitleText(axisTitle);
  y_->setTitleText(tr("cells"));
  y_->setLabelFormat(QStringLiteral("%.0f"));
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_, Qt::AlignLeft);
  bars_->attachAxis(x_);
  bars_->attachAxis(y_);
  for (auto*& line : thresholds_) {
    line = new QLineSeries;
    line->setPen(QPen(thresholdColor(), 3));
    line->setVisible(false);
    chart->addSeries(line);
    line->attachAxis(x_);
    line->attachAxis(y_);
  }
  setChart(chart);
  setMinimumSize(260, 200);
  rescale();
}

void QcHistogram::setValues(std::vector<double> values) {
  values_ = std::move(values);
  histogram_ = makeHistogram(values_, kBins);
  // The bars as a step outline filled down to zero.
  QList<QPointF> steps;
  steps.reserve(static_cast<qsizetype>(histogram_.counts.size() * 2 + 2));
  double x = histogram_.start;
  steps.append({x, 0});
  for (int64_t count : histogram_.counts) {
    steps.append({x, static_cast<double>(count)});
    x += histogram_.width;
    steps.append({x, static_cast<double>(count)});
  }
  steps.append({x, 0});
  outline_->replace(steps);
  rescale();
}

void QcHistogram::setThreshold(Bound bound, double value, bool shown) {
  QLineSeries* line = thresholds_[bound];
  line->setProperty("value", value);
  line->setVisible(shown);
  rescale();
}

bool QcHistogram::isThresholdShown(Bound bound) const { return thresholds_[bound]->isVisible(); }

double QcHistogram::thresholdValue(Bound bound) const { return thresholds_[bound]->property("value").toDouble(); }

QPointF QcHistogram::mapToWidget(const QPointF& value) const {
  return mapFromScene(chart()->mapToScene(chart()->mapToPosition(value, bars_)));
}

void QcHistogram::rescale() {
  double lo = histogram_.start, hi = histogram_.start + histogram_.width * static_cast<double>(histogram_.counts.size());
  double top = 1;
  for (int64_t c : histogram_.counts) top = std::max(top, static_cast<double>(c));
  top *= 1.05;
  for (QLineSeries* line : thresholds_) {
    if (!line->isVisible()) continue;
    const double t = line->property("value").toDouble();
    lo = std::min(lo, t);
    hi = std::max(hi, t);
    line->replace({QPointF(t, 0), QPointF(t, top)});
  }
  const double pad = (hi - lo) * 0.02 + 1e-9;
  x_->setRange(lo - pad, hi + pad);
  x_->applyNiceNumbers();  // round tick labels
  x_->setLabelFormat(x_->max() - x_->min() >= 20 ? QStringLiteral("%.0f") : QStringLiteral("%.1f"));
  y_->setRange(0, top);
}

}  // namespace cw::ui
