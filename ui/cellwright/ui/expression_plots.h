#pragma once
// Expression of chosen genes across groups of cells, as scanpy's violin and dot plots:
// the summary is computed on the engine thread (one pass over X); the widgets only paint.
#include <QColor>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <string>
#include <vector>

#include "cellwright/core/feedback.h"
#include "cellwright/io/dataset.h"

namespace cw::ui {

// Gaussian kernel density (Scott's bandwidth) over [lo, hi] of a group's values, scaled so
// that its peak is 1 (scanpy's violins: scale="width", cut=0).
struct ViolinShape {
  double lo = 0, hi = 0;
  std::vector<double> density;  // at lo + i * (hi - lo) / (size - 1)
  int64_t cells = 0;
};

struct ExpressionSummary {
  QStringList genes, groups;
  // [gene][group]
  std::vector<std::vector<double>> fractionExpressing;  // cells with a value > 0
  std::vector<std::vector<double>> meanExpression;      // over every cell of the group
  std::vector<std::vector<ViolinShape>> violins;
};

// `codes`: per cell, its group (0..groupNames.size()-1) or -1 to leave it out.
// Densities use at most `maxCellsForDensity` cells per group (an even stride through them).
ExpressionSummary summarizeExpression(const cw::CsrMatrix& matrix, const std::vector<int64_t>& geneColumns,
                                      const std::vector<std::string>& geneNames, const std::vector<int32_t>& codes,
                                      const std::vector<std::string>& groupNames, cw::Feedback* feedback = nullptr,
                                      int64_t maxCellsForDensity = 5000);

// matplotlib's "Reds" (scanpy's dot plot colormap) at t in [0, 1] (clamped).
QColor reds(double t);

// Violins: one row per gene, one violin per group in the group's palette colour.
class ViolinPlot : public QWidget {
  Q_OBJECT
 public:
  explicit ViolinPlot(QWidget* parent = nullptr);
  void setSummary(ExpressionSummary summary);
  const ExpressionSummary& summary() const { return summary_; }
  QColor groupColor(int group) const;
  // Where the violin of (gene, group) is drawn: its slot in widget pixels.
  QRectF violinSlot(int gene, int group) const;
  // Vertical pixel of an expression value in a gene's row.
  double yOf(int gene, double value) const;
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  ExpressionSummary summary_;
  double maxValue(int gene) const;
};

// Dot plot: groups as rows, genes as columns; dot area = fraction of the group's cells
// expressing the gene, colour = mean expression (Reds, from the smallest to the largest mean shown).
class DotPlot : public QWidget {
  Q_OBJECT
 public:
  static constexpr double kMaxDiameter = 30.0;
  explicit DotPlot(QWidget* parent = nullptr);
  void setSummary(ExpressionSummary summary);
  const ExpressionSummary& summary() const { return summary_; }
  // The dot's bounding square in widget pixels (diameter = kMaxDiameter · sqrt(fraction)).
  QRectF dotRect(int group, int gene) const;
  QColor dotColor(int group, int gene) const;
  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QPointF dotCentre(int group, int gene) const;
  ExpressionSummary summary_;
  double minMean_ = 0, maxMean_ = 1;
};

}  // namespace cw::ui
