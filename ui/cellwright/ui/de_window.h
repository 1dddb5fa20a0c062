#pragma once
// Differential expression from the GUI: a group of an annotation against the rest (or
// another group), or one set of cells against another (lasso selections); Wilcoxon with
// Benjamini-Hochberg by default, as scanpy's rank_genes_groups. The test runs on the engine
// thread; the genes land in a sortable table, and violin and dot plots show the chosen genes
// (the top five by default) across the groups.
#include <QWidget>

#include <functional>
#include <memory>
#include <vector>

#include "cellwright/analysis/de.h"
#include "cellwright/ui/expression_plots.h"
#include "cellwright/ui/job.h"

class QComboBox;
class QLabel;
class QPushButton;
class QRadioButton;
class QStackedWidget;
class QTabWidget;

namespace cw::ui {

class DeTable;
class Document;
class JobQueue;

class DeWindow : public QWidget {
  Q_OBJECT
 public:
  DeWindow(Document* document, JobQueue* jobs, QWidget* parent = nullptr);

  // Where "Use the current selection" takes its cells from (the embedding's lasso).
  void setSelectionSource(std::function<std::vector<int64_t>()> source) { selectionSource_ = std::move(source); }
  // Group mode: obs column, its group, and "rest" or another group.
  bool setGroupComparison(const QString& column, const QString& group, const QString& reference = QStringLiteral("rest"));
  // Selection mode: cells A against cells B (empty B: every other cell).
  void setSelections(std::vector<int64_t> a, std::vector<int64_t> b = {});
  void setMethod(cw::analysis::DeMethod method);
  JobId run();
  // Plots these genes (a job reads their expression).
  JobId plotGenes(const QStringList& genes);
  // Writes the plot of the current tab, as SVG (vector) when `path` ends in .svg, else PNG.
  bool exportPlot(const QString& path) const;

  DeTable* table() const { return table_; }
  ViolinPlot* violinPlot() const { return violins_; }
  DotPlot* dotPlot() const { return dots_; }
  QTabWidget* plotTabs() const { return plotTabs_; }
  const cw::analysis::DeComparison& comparison() const { return comparison_; }

 Q_SIGNALS:
  void resultShown();
  void plotsShown();

 private:
  void onDatasetChanged();
  void fillGroups();
  void updateSelectionLabels();
  void plotSelectedRows();

  Document* document_;
  JobQueue* jobs_;
  std::function<std::vector<int64_t>()> selectionSource_;
  std::vector<int64_t> selectionA_, selectionB_;
  QRadioButton *groupMode_, *selectionMode_;
  QStackedWidget* modeOptions_;
  QComboBox *column_, *group_, *reference_, *method_;
  QLabel *labelA_, *labelB_, *status_;
  QPushButton* runButton_;
  DeTable* table_;
  QTabWidget* plotTabs_;
  ViolinPlot* violins_;
  DotPlot* dots_;
  cw::analysis::DeComparison comparison_;
  // The groups the plots show (every group of the column, or A and B) for the last result.
  std::vector<int32_t> plotCodes_;
  std::vector<std::string> plotGroups_;
};

}  // namespace cw::ui
