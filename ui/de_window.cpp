#include "cellwright/ui/de_window.h"

#include <QButtonGroup>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <set>

#include "cellwright/analysis/grouping.h"
#include "cellwright/core/errors.h"
#include "cellwright/ui/de_table.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/export.h"
#include "cellwright/ui/job_queue.h"

namespace cw::ui {

namespace {

constexpr int kDefaultPlottedGenes = 5;

struct DeOutcome {
  cw::analysis::DeComparison comparison;
  ExpressionSummary summary;
  std::vector<int32_t> plotCodes;
  std::vector<std::string> plotGroups;
};

QScrollArea* scrolled(QWidget* content, QWidget* parent) {
  auto* area = new QScrollArea(parent);
  area->setWidget(content);
  area->setWidgetResizable(true);
  area->setBackgroundRole(QPalette::Base);
  return area;
}

std::vector<int64_t> geneColumns(const cw::Dataset& d, const std::vector<std::string>& names) {
  std::vector<int64_t> columns;
  for (const auto& name : names) {
    const auto it = std::find(d.var.index.begin(), d.var.index.end(), name);
    if (it == d.var.index.end()) throw cw::Error("the data has no gene '" + name + "'");
    columns.push_back(it - d.var.index.begin());
  }
  return columns;
}

}  // namespace

DeWindow::DeWindow(Document* document, JobQueue* jobs, QWidget* parent) : QWidget(parent), document_(document), jobs_(jobs) {
  setObjectName(QStringLiteral("deWindow"));
  setWindowTitle(tr("Differential expression"));
  groupMode_ = new QRadioButton(tr("A group against the rest or another group"), this);
  selectionMode_ = new QRadioButton(tr("Selected cells A against cells B"), this);
  groupMode_->setChecked(true);
  modeOptions_ = new QStackedWidget(this);

  auto* groupPage = new QWidget(modeOptions_);
  column_ = new QComboBox(groupPage);
  group_ = new QComboBox(groupPage);
  reference_ = new QComboBox(groupPage);
  auto* groupForm = new QFormLayout(groupPage);
  groupForm->addRow(tr("Annotation"), column_);
  groupForm->addRow(tr("Group"), group_);
  groupForm->addRow(tr("Against"), reference_);

  auto* selectionPage = new QWidget(modeOptions_);
  labelA_ = new QLabel(selectionPage);
  labelB_ = new QLabel(selectionPage);
  labelB_->setObjectName(QStringLiteral("selectionB"));
  auto* useA = new QPushButton(tr("Current selection as A"), selectionPage);
  auto* useB = new QPushButton(tr("Current selection as B"), selectionPage);
  auto* restB = new QPushButton(tr("B = every other cell"), selectionPage);
  auto* selectionGrid = new QFormLayout(selectionPage);
  auto rowOf = [selectionPage](QLabel* label, std::initializer_list<QPushButton*> buttons) {
    auto* row = new QHBoxLayout;
    row->addWidget(label, 1);
    for (auto* b : buttons) row->addWidget(b);
    Q_UNUSED(selectionPage);
    return row;
  };
  selectionGrid->addRow(QStringLiteral("A"), rowOf(labelA_, {useA}));
  selectionGrid->addRow(QStringLiteral("B"), rowOf(labelB_, {useB, restB}));
  connect(useA, &QPushButton::clicked, this, [this] {
    if (selectionSource_) selectionA_ = selectionSource_();
    updateSelectionLabels();
  });
  connect(useB, &QPushButton::clicked, this, [this] {
    if (selectionSource_) selectionB_ = selectionSource_();
    updateSelectionLabels();
  });
  connect(restB, &QPushButton::clicked, this, [this] {
    selectionB_.clear();
    updateSelectionLabels();
  });
  modeOptions_->addWidget(groupPage);
  modeOptions_->addWidget(selectionPage);
  connect(selectionMode_, &QRadioButton::toggled, this, [this](bool on) { modeOptions_->setCurrentIndex(on ? 1 : 0); });

  method_ = new QComboBox(this);
  method_->addItem(tr("Wilcoxon rank-sum"), static_cast<int>(cw::analysis::DeMethod::Wilcoxon));
  method_->addItem(tr("Welch's t-test"), static_cast<int>(cw::analysis::DeMethod::TTest));
  runButton_ = new QPushButton(tr("Run"), this);
  connect(runButton_, &QPushButton::clicked, this, &DeWindow::run);
  status_ = new QLabel(tr("p-values are adjusted by Benjamini–Hochberg. X should hold log-normalised values."), this);
  status_->setWordWrap(true);
  connect(column_, &QComboBox::currentTextChanged, this, &DeWindow::fillGroups);

  table_ = new DeTable(this);
  table_->table()->setSelectionBehavior(QAbstractItemView::SelectRows);
  auto* plotButton = new QPushButton(tr("Plot the selected genes"), this);
  connect(plotButton, &QPushButton::clicked, this, &DeWindow::plotSelectedRows);
  auto* exportButton = new QPushButton(tr("Export plot…"), this);
  connect(exportButton, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), QStringLiteral("de-plot.svg"), tr("SVG (*.svg);;PNG (*.png)"));
    if (!path.isEmpty() && !exportPlot(path)) status_->setText(tr("Could not write %1").arg(path));
  });
  violins_ = new ViolinPlot(this);
  dots_ = new DotPlot(this);
  plotTabs_ = new QTabWidget(this);
  plotTabs_->addTab(scrolled(dots_, plotTabs_), tr("Dot plot"));
  plotTabs_->addTab(scrolled(violins_, plotTabs_), tr("Violins"));

  auto* setup = new QHBoxLayout;
  auto* modes = new QVBoxLayout;
  modes->addWidget(groupMode_);
  modes->addWidget(selectionMode_);
  modes->addWidget(modeOptions_);
  setup->addLayout(modes, 1);
  auto* right = new QFormLayout;
  right->addRow(tr("Test"), method_);
  right->addRow(QString(), runButton_);
  setup->addLayout(right);
  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(table_, 1);
  auto* plotButtons = new QHBoxLayout;
  plotButtons->addWidget(plotButton);
  plotButtons->addWidget(exportButton);
  leftLayout->addLayout(plotButtons);
  auto* splitter = new QSplitter(this);
  splitter->addWidget(left);
  splitter->addWidget(plotTabs_);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(setup);
  layout->addWidget(status_);
  layout->addWidget(splitter, 1);

  connect(document_, &Document::datasetChanged, this, &DeWindow::onDatasetChanged);
  onDatasetChanged();
  updateSelectionLabels();
  resize(1100, 700);
}

void DeWindow::onDatasetChanged() {
  const QString previous = column_->currentText();
  column_->blockSignals(true);
  column_->clear();
  if (auto d = document_->dataset())
    for (const auto& name : d->obs.columnOrder) {
      const auto kind = d->obs.at(name).kind;
      if (kind == cw::Column::Kind::Categorical || kind == cw::Column::Kind::String || kind == cw::Column::Kind::Bool)
        column_->addItem(QString::fromStdString(name));
    }
  if (column_->findText(previous) >= 0) column_->setCurrentText(previous);
  column_->blockSignals(false);
  fillGroups();
}

void DeWindow::fillGroups() {
  const QString group = group_->currentText(), reference = reference_->currentText();
  group_->clear();
  reference_->clear();
  reference_->addItem(QStringLiteral("rest"));
  auto d = document_->dataset();
  if (!d || column_->currentText().isEmpty()) return;
  for (const auto& name : cw::analysis::groupingOf(*d, column_->currentText().toStdString()).names) {
    group_->addItem(QString::fromStdString(name));
    reference_->addItem(QString::fromStdString(name));
  }
  if (group_->findText(group) >= 0) group_->setCurrentText(group);
  if (reference_->findText(reference) >= 0) reference_->setCurrentText(reference);
}

bool DeWindow::setGroupComparison(const QString& column, const QString& group, const QString& reference) {
  if (column_->findText(column) < 0) return false;
  column_->setCurrentText(column);
  if (group_->findText(group) < 0 || reference_->findText(reference) < 0) return false;
  group_->setCurrentText(group);
  reference_->setCurrentText(reference);
  groupMode_->setChecked(true);
  return true;
}

void DeWindow::setSelections(std::vector<int64_t> a, std::vector<int64_t> b) {
  selectionA_ = std::move(a);
  selectionB_ = std::move(b);
  selectionMode_->setChecked(true);
  updateSelectionLabels();
}

void DeWindow::setMethod(cw::analysis::DeMethod method) { method_->setCurrentIndex(method_->findData(static_cast<int>(method))); }

void DeWindow::updateSelectionLabels() {
  labelA_->setText(selectionA_.empty() ? tr("no cells yet: lasso cells in the embedding") : tr("%1 cells").arg(selectionA_.size()));
  labelB_->setText(selectionB_.empty() ? tr("every cell not in A") : tr("%1 cells").arg(selectionB_.size()));
}

JobId DeWindow::run() {
  auto snapshot = document_->dataset();
  cw::analysis::DeOptions options;
  options.method = static_cast<cw::analysis::DeMethod>(method_->currentData().toInt());
  const bool bySelection = selectionMode_->isChecked();
  const std::string column = column_->currentText().toStdString(), group = group_->currentText().toStdString(),
                    reference = reference_->currentText().toStdString();
  const std::vector<int64_t> a = selectionA_, b = selectionB_;
  status_->setText(tr("Testing…"));
  QPointer<DeWindow> self(this);
  return jobs_->enqueue(
      tr("Differential expression"),
      [=](cw::Feedback& feedback) -> std::any {
        if (!snapshot) throw cw::Error("open a dataset first");
        const cw::Dataset& d = *snapshot;
        if (cw::looksLikeCounts(d.X)) feedback.warning("X holds raw counts: preprocess (normalise, log1p) first for scanpy's statistics");
        DeOutcome out;
        if (bySelection) {
          if (a.empty()) throw cw::Error("select cells A in the embedding first (lasso), then press 'Current selection as A'");
          std::vector<int32_t> codes(static_cast<size_t>(d.nObs()), b.empty() ? 1 : -1);
          for (int64_t c : b) codes.at(static_cast<size_t>(c)) = 1;
          for (int64_t c : a) {
            if (codes.at(static_cast<size_t>(c)) == 1 && !b.empty()) throw cw::Error("cells A and B overlap: choose two separate selections");
            codes[static_cast<size_t>(c)] = 0;
          }
          std::vector<int64_t> reference;
          for (int64_t i = 0; i < d.nObs(); ++i)
            if (codes[static_cast<size_t>(i)] == 1) reference.push_back(i);
          if (reference.empty()) throw cw::Error("cells B are empty: every cell is in A");
          out.comparison = cw::analysis::rankGenes(d.X, a, reference, options, &feedback);
          out.comparison.group = "A";
          out.comparison.reference = b.empty() ? "rest" : "B";
          out.plotCodes = std::move(codes);
          out.plotGroups = {"A", b.empty() ? "rest" : "B"};
        } else {
          if (column.empty()) throw cw::Error("the data has no annotation to compare groups of");
          auto results = cw::analysis::rankGenesGroups(d, column, group, reference, options, &feedback);
          if (results.empty()) throw cw::Error("the group '" + group + "' has no cells");
          out.comparison = std::move(results.front());
          auto grouping = cw::analysis::groupingOf(d, column);
          out.plotCodes = std::move(grouping.codes);
          out.plotGroups = std::move(grouping.names);
        }
        std::vector<int64_t> top;
        for (const auto& g : out.comparison.genes) {
          if (static_cast<int>(top.size()) == kDefaultPlottedGenes) break;
          top.push_back(g.gene);
        }
        out.summary = summarizeExpression(d.X, top, d.var.index, out.plotCodes, out.plotGroups, &feedback);
        return out;
      },
      [self, snapshot](std::any& result) {
        if (!self) return;
        auto out = std::any_cast<DeOutcome>(std::move(result));
        self->comparison_ = out.comparison;
        self->table_->setResult(out.comparison, snapshot->var.index);
        self->plotCodes_ = std::move(out.plotCodes);
        self->plotGroups_ = std::move(out.plotGroups);
        self->violins_->setSummary(out.summary);
        self->dots_->setSummary(std::move(out.summary));
        self->status_->setText(tr("%1 vs %2: %3 genes, by score. Select rows and press 'Plot' to plot other genes.")
                                   .arg(QString::fromStdString(self->comparison_.group), QString::fromStdString(self->comparison_.reference))
                                   .arg(self->comparison_.genes.size()));
        Q_EMIT self->resultShown();
        Q_EMIT self->plotsShown();
      });
}

bool DeWindow::exportPlot(const QString& path) const {
  QWidget* plot = plotTabs_->currentIndex() == 1 ? static_cast<QWidget*>(violins_) : dots_;
  if (path.endsWith(QStringLiteral(".svg"), Qt::CaseInsensitive)) return exportSvg(plot, path);
  return exportPng(plot, path, plot->size());
}

void DeWindow::plotSelectedRows() {
  QStringList genes;
  std::set<int> rows;
  for (const QModelIndex& index : table_->table()->selectionModel()->selectedIndexes()) rows.insert(index.row());
  for (int row : rows) genes << table_->table()->item(row, 0)->text();
  if (!genes.isEmpty()) plotGenes(genes);
}

JobId DeWindow::plotGenes(const QStringList& genes) {
  auto snapshot = document_->dataset();
  std::vector<std::string> names;
  for (const QString& g : genes) names.push_back(g.toStdString());
  const auto codes = plotCodes_;
  const auto groups = plotGroups_;
  QPointer<DeWindow> self(this);
  return jobs_->enqueue(
      tr("Expression of %1 genes").arg(genes.size()),
      [snapshot, names, codes, groups](cw::Feedback& feedback) -> std::any {
        if (!snapshot) throw cw::Error("open a dataset first");
        if (codes.size() != static_cast<size_t>(snapshot->nObs())) throw cw::Error("run the test again: the cells changed");
        return summarizeExpression(snapshot->X, geneColumns(*snapshot, names), snapshot->var.index, codes, groups, &feedback);
      },
      [self](std::any& result) {
        if (!self) return;
        auto summary = std::any_cast<ExpressionSummary>(std::move(result));
        self->violins_->setSummary(summary);
        self->dots_->setSummary(std::move(summary));
        Q_EMIT self->plotsShown();
      });
}

}  // namespace cw::ui
