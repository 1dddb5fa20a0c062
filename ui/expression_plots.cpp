#include "cellwright/ui/expression_plots.h"

#include <QFontMetrics>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "cellwright/core/errors.h"
#include "cellwright/ui/palette.h"

namespace cw::ui {

namespace {

constexpr int kDensityPoints = 64;

ViolinShape violinOf(const std::vector<float>& values, int64_t maxCells) {
  ViolinShape v;
  v.cells = static_cast<int64_t>(values.size());
  if (values.empty()) return v;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  v.lo = *lo;
  v.hi = *hi;
  if (v.hi <= v.lo) return v;  // one value: drawn as a line
  std::vector<double> sample;
  const size_t stride = std::max<size_t>(1, values.size() / static_cast<size_t>(std::max<int64_t>(maxCells, 1)));
  for (size_t i = 0; i < values.size(); i += stride) sample.push_back(values[i]);
  double mean = 0;
  for (double x : sample) mean += x;
  mean /= static_cast<double>(sample.size());
  double var = 0;
  for (double x : sample) var += (x - mean) * (x - mean);
  const double sd = std::sqrt(var / std::max<double>(1, static_cast<double>(sample.size()) - 1));
  const double h = std::max(sd, 1e-3 * (v.hi - v.lo)) * std::pow(static_cast<double>(sample.size()), -0.2);  // Scott
  v.density.assign(kDensityPoints, 0.0);
  for (int i = 0; i < kDensityPoints; ++i) {
    const double y = v.lo + (v.hi - v.lo) * i / (kDensityPoints - 1);
    double d = 0;
    for (double x : sample) d += std::exp(-0.5 * ((y - x) / h) * ((y - x) / h));
    v.density[static_cast<size_t>(i)] = d;
  }
  const double peak = *std::max_element(v.density.begin(), v.density.end());
  if (peak > 0)
    for (double& d : v.density) d /= peak;
  return v;
}

}  // namespace

ExpressionSummary summarizeExpression(const cw::CsrMatrix& m, const std::vector<int64_t>& geneColumns,
                                      const std::vector<std::string>& geneNames, const std::vector<int32_t>& codes,
                                      const std::vector<std::string>& groupNames, cw::Feedback* feedback,
                                      int64_t maxCellsForDensity) {
  if (static_cast<int64_t>(codes.size()) != m.rows) throw cw::Error("the groups do not cover every cell");
  ExpressionSummary s;
  for (const auto& g : groupNames) s.groups << QString::fromStdString(g);
  std::unordered_map<int64_t, size_t> slotOf;
  for (size_t k = 0; k < geneColumns.size(); ++k) {
    if (geneColumns[k] < 0 || geneColumns[k] >= m.cols) throw cw::Error("gene column out of range");
    slotOf.emplace(geneColumns[k], k);
    s.genes << QString::fromStdString(static_cast<size_t>(geneColumns[k]) < geneNames.size() ? geneNames[static_cast<size_t>(geneColumns[k])]
                                                                                           : std::to_string(geneColumns[k]));
  }
  const size_t nGroups = groupNames.size(), nGenes = geneColumns.size();
  // values[gene][group]: every cell of the group, zeros included.
  std::vector<std::vector<std::vector<float>>> values(nGenes, std::vector<std::vector<float>>(nGroups));
  std::vector<float> row(nGenes);
  for (int64_t r = 0; r < m.rows; ++r) {
    const int32_t g = codes[static_cast<size_t>(r)];
    if (g < 0 || static_cast<size_t>(g) >= nGroups) continue;
    std::fill(row.begin(), row.end(), 0.0f);
    for (int64_t k = m.indptr[static_cast<size_t>(r)]; k < m.indptr[static_cast<size_t>(r) + 1]; ++k)
      if (auto it = slotOf.find(m.indices[static_cast<size_t>(k)]); it != slotOf.end()) row[it->second] = m.data[static_cast<size_t>(k)];
    for (size_t k = 0; k < nGenes; ++k) values[k][static_cast<size_t>(g)].push_back(row[k]);
    if (feedback && r % 65536 == 0) feedback->throwIfCanceled();
  }
  s.fractionExpressing.assign(nGenes, std::vector<double>(nGroups, 0.0));
  s.meanExpression.assign(nGenes, std::vector<double>(nGroups, 0.0));
  s.violins.assign(nGenes, std::vector<ViolinShape>(nGroups));
  for (size_t k = 0; k < nGenes; ++k)
    for (size_t g = 0; g < nGroups; ++g) {
      const auto& v = values[k][g];
      if (v.empty()) continue;
      double sum = 0, expressing = 0;
      for (float x : v) {
        sum += x;
        expressing += x > 0;
      }
      s.meanExpression[k][g] = sum / static_cast<double>(v.size());
      s.fractionExpressing[k][g] = expressing / static_cast<double>(v.size());
      s.violins[k][g] = violinOf(v, maxCellsForDensity);
      if (feedback) feedback->throwIfCanceled();
    }
  return s;
}

QColor reds(double t) {
  static const QColor stops[] = {QColor(0xff, 0xf5, 0xf0), QColor(0xfe, 0xe0, 0xd2), QColor(0xfc, 0xbb, 0xa1),
                                 QColor(0xfc, 0x92, 0x72), QColor(0xfb, 0x6a, 0x4a), QColor(0xef, 0x3b, 0x2c),
                                 QColor(0xcb, 0x18, 0x1d), QColor(0xa5, 0x0f, 0x15), QColor(0x67, 0x00, 0x0d)};
  if (!(t >= 0)) t = 0;
  t = std::min(t, 1.0) * 8;
  const int i = std::min(static_cast<int>(t), 7);
  const double f = t - i;
  auto mix = [f](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * f)); };
  return QColor(mix(stops[i].red(), stops[i + 1].red()), mix(stops[i].green(), stops[i + 1].green()),
                mix(stops[i].blue(), stops[i + 1].blue()));
}

// ---- violins ----

namespace {
constexpr double kLeft = 110, kTop = 10, kRowHeight = 120, kRowGap = 16, kBottom = 40, kSlot = 70;
}

ViolinPlot::ViolinPlot(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("violinPlot"));
  setAutoFillBackground(true);
  setPalette(QPalette(Qt::white));
  setBackgroundRole(QPalette::Base);
}

void ViolinPlot::setSummary(ExpressionSummary summary) {
  summary_ = std::move(summary);
  setMinimumSize(sizeHint());  // in a scroll area: scroll rather than squeeze
  updateGeometry();
  update();
}

QColor ViolinPlot::groupColor(int group) const { return categoricalPalette(static_cast<int>(summary_.groups.size())).value(group); }

QSize ViolinPlot::sizeHint() const {
  return QSize(static_cast<int>(kLeft + kSlot * std::max<qsizetype>(1, summary_.groups.size()) + 20),
               static_cast<int>(kTop + (kRowHeight + kRowGap) * std::max<qsizetype>(1, summary_.genes.size()) + kBottom));
}

double ViolinPlot::maxValue(int gene) const {
  double hi = 0;
  for (const auto& v : summary_.violins[static_cast<size_t>(gene)]) hi = std::max(hi, v.hi);
  return hi > 0 ? hi : 1;
}

QRectF ViolinPlot::violinSlot(int gene, int group) const {
  return QRectF(kLeft + kSlot * group, kTop + (kRowHeight + kRowGap) * gene, kSlot, kRowHeight);
}

double ViolinPlot::yOf(int gene, double value) const {
  const QRectF row = violinSlot(gene, 0);
  return row.bottom() - (value / maxValue(gene)) * row.height();
}

void ViolinPlot::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), Qt::white);
  if (summary_.genes.isEmpty()) {
    p.drawText(rect(), Qt::AlignCenter, tr("Choose genes in the table to plot them."));
    return;
  }
  const QFontMetrics fm(font());
  for (int k = 0; k < summary_.genes.size(); ++k) {
    const QRectF row = violinSlot(k, 0).united(violinSlot(k, static_cast<int>(summary_.groups.size()) - 1));
    p.setPen(Qt::black);
    p.drawLine(QPointF(row.left(), row.top()), QPointF(row.left(), row.bottom()));
    p.drawLine(QPointF(row.left(), row.bottom()), QPointF(row.right(), row.bottom()));
    p.drawText(QRectF(0, row.top(), kLeft - 40, row.height()), Qt::AlignVCenter | Qt::AlignRight, summary_.genes[k]);
    for (double tick : {0.0, maxValue(k)}) {
      p.drawText(QRectF(kLeft - 38, yOf(k, tick) - 8, 34, 16), Qt::AlignRight | Qt::AlignVCenter, QString::number(tick, 'g', 3));
    }
    for (int g = 0; g < summary_.groups.size(); ++g) {
      const ViolinShape& v = summary_.violins[static_cast<size_t>(k)][static_cast<size_t>(g)];
      if (v.cells == 0) continue;
      const QRectF slot = violinSlot(k, g);
      const double cx = slot.center().x(), half = slot.width() * 0.42;
      p.setPen(QPen(Qt::black, 0.8));
      p.setBrush(groupColor(g));
      if (v.density.empty()) {  // every cell has the same value
        p.drawRect(QRectF(cx - half, yOf(k, v.lo) - 1.5, 2 * half, 3));
        continue;
      }
      QPainterPath path;
      const int n = static_cast<int>(v.density.size());
      for (int i = 0; i < n; ++i) {
        const double y = yOf(k, v.lo + (v.hi - v.lo) * i / (n - 1));
        const QPointF pt(cx + half * v.density[static_cast<size_t>(i)], y);
        i == 0 ? path.moveTo(pt) : path.lineTo(pt);
      }
      for (int i = n - 1; i >= 0; --i)
        path.lineTo(cx - half * v.density[static_cast<size_t>(i)], yOf(k, v.lo + (v.hi - v.lo) * i / (n - 1)));
      path.closeSubpath();
      p.drawPath(path);
    }
  }
  const double labelsY = kTop + (kRowHeight + kRowGap) * summary_.genes.size() - kRowGap + 4;
  p.setPen(Qt::black);
  for (int g = 0; g < summary_.groups.size(); ++g) {
    const QRectF slot = violinSlot(0, g);
    p.drawText(QRectF(slot.left(), labelsY, slot.width(), 20), Qt::AlignHCenter | Qt::AlignTop,
               fm.elidedText(summary_.groups[g], Qt::ElideRight, static_cast<int>(slot.width()) - 4));
  }
}

// ---- dot plot ----

namespace {
constexpr double kDotLeft = 130, kDotTop = 70, kDotCell = 36, kLegendWidth = 150;
}

DotPlot::DotPlot(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("dotPlot"));
  setAutoFillBackground(true);
  setPalette(QPalette(Qt::white));
}

void DotPlot::setSummary(ExpressionSummary summary) {
  summary_ = std::move(summary);
  minMean_ = INFINITY;
  maxMean_ = -INFINITY;
  for (const auto& gene : summary_.meanExpression)
    for (double m : gene) {
      minMean_ = std::min(minMean_, m);
      maxMean_ = std::max(maxMean_, m);
    }
  if (!(maxMean_ > minMean_)) maxMean_ = minMean_ + 1;
  setMinimumSize(sizeHint());
  updateGeometry();
  update();
}

QSize DotPlot::sizeHint() const {
  return QSize(static_cast<int>(kDotLeft + kDotCell * std::max<qsizetype>(1, summary_.genes.size()) + kLegendWidth),
               static_cast<int>(kDotTop + kDotCell * std::max<qsizetype>(4, summary_.groups.size()) + 20));
}

QPointF DotPlot::dotCentre(int group, int gene) const {
  return QPointF(kDotLeft + kDotCell * (gene + 0.5), kDotTop + kDotCell * (group + 0.5));
}

QRectF DotPlot::dotRect(int group, int gene) const {
  const double d = kMaxDiameter * std::sqrt(summary_.fractionExpressing[static_cast<size_t>(gene)][static_cast<size_t>(group)]);
  const QPointF c = dotCentre(group, gene);
  return QRectF(c.x() - d / 2, c.y() - d / 2, d, d);
}

QColor DotPlot::dotColor(int group, int gene) const {
  return reds((summary_.meanExpression[static_cast<size_t>(gene)][static_cast<size_t>(group)] - minMean_) / (maxMean_ - minMean_));
}

void DotPlot::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::white);
  if (summary_.genes.isEmpty()) {
    p.drawText(rect(), Qt::AlignCenter, tr("Choose genes in the table to plot them."));
    return;
  }
  const QFontMetrics fm(font());
  p.setPen(Qt::black);
  for (int g = 0; g < summary_.groups.size(); ++g)
    p.drawText(QRectF(0, kDotTop + kDotCell * g, kDotLeft - 8, kDotCell), Qt::AlignVCenter | Qt::AlignRight,
               fm.elidedText(summary_.groups[g], Qt::ElideRight, static_cast<int>(kDotLeft) - 12));
  for (int k = 0; k < summary_.genes.size(); ++k) {
    p.save();
    p.translate(kDotLeft + kDotCell * (k + 0.5), kDotTop - 6);
    p.rotate(-60);
    p.drawText(QPointF(0, 4), fm.elidedText(summary_.genes[k], Qt::ElideRight, 80));
    p.restore();
  }
  p.setRenderHint(QPainter::Antialiasing);
  for (int g = 0; g < summary_.groups.size(); ++g)
    for (int k = 0; k < summary_.genes.size(); ++k) {
      p.setPen(QPen(QColor(80, 80, 80), 0.5));
      p.setBrush(dotColor(g, k));
      p.drawEllipse(dotRect(g, k));
    }
  // Legends: colour bar for the mean, dot sizes for the fraction.
  const double lx = kDotLeft + kDotCell * summary_.genes.size() + 20;
  p.setPen(Qt::black);
  p.drawText(QPointF(lx, kDotTop - 10), tr("Mean expression"));
  const QRectF bar(lx, kDotTop, 100, 12);
  QLinearGradient gradient(bar.topLeft(), bar.topRight());
  for (int i = 0; i <= 8; ++i) gradient.setColorAt(i / 8.0, reds(i / 8.0));
  p.fillRect(bar, gradient);
  p.drawText(QPointF(lx, bar.bottom() + 14), QString::number(minMean_, 'g', 2));
  p.drawText(QRectF(lx, bar.bottom() + 2, 100, 16), Qt::AlignRight, QString::number(maxMean_, 'g', 2));
  p.drawText(QPointF(lx, bar.bottom() + 40), tr("Fraction of cells (%)"));
  double x = lx;
  for (double f : {0.2, 0.6, 1.0}) {
    const double d = kMaxDiameter * std::sqrt(f);
    p.setBrush(QColor(120, 120, 120));
    p.drawEllipse(QRectF(x, bar.bottom() + 50 + (kMaxDiameter - d) / 2, d, d));
    p.drawText(QRectF(x - 4, bar.bottom() + 52 + kMaxDiameter, d + 8, 14), Qt::AlignHCenter, QString::number(f * 100));
    x += d + 10;
  }
}

}  // namespace cw::ui
