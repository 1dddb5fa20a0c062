#include "cellwright/ui/preprocess_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include <memory>

#include "cellwright/core/errors.h"
#include "cellwright/preprocess/qc.h"
#include "cellwright/ui/document.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/qc_histogram.h"

namespace cw::ui {

namespace {

// The raw counts and the names of their genes (raw/X may hold more genes than var).
std::pair<const cw::CsrMatrix*, const std::vector<std::string>*> countsWithNames(const cw::Dataset& d) {
  cw::CountsSource source = d.countsSource;
  if (source == cw::CountsSource::None) source = cw::detectCountsSource(d);
  if (source == cw::CountsSource::None)
    throw cw::Error("no raw counts found (X, layers['counts'] or raw/X hold no integer counts): quality control needs them");
  if (source == cw::CountsSource::RawX) return {&d.raw->X, &d.raw->var.index};
  if (source == cw::CountsSource::LayersCounts) return {&d.layers.at("counts"), &d.var.index};
  return {&d.X, &d.var.index};
}

const char* const kGroup = "analysis/preprocess";

}  // namespace

QcValues computeQcValues(const cw::Dataset& dataset) {
  const auto [counts, names] = countsWithNames(dataset);
  const auto qc = cw::preprocess::computeQcMetrics(*counts, *names);
  QcValues v;
  v.genesPerCell.assign(qc.nGenesByCounts.begin(), qc.nGenesByCounts.end());
  v.countsPerCell = qc.totalCounts;
  v.pctMito = qc.pctCountsMito;
  v.nMitoGenes = qc.nMitoGenes;
  return v;
}

DatasetEdit preprocessStep(const PreprocessRequest& request) {
  return [request](cw::Dataset& dataset, cw::Feedback& feedback) {
    if (request.maxGenes > 0 || request.minCounts > 0 || request.maxCounts > 0) {
      const QcValues qc = computeQcValues(dataset);
      std::vector<int64_t> kept;
      for (size_t i = 0; i < qc.genesPerCell.size(); ++i) {
        if (request.maxGenes > 0 && qc.genesPerCell[i] > static_cast<double>(request.maxGenes)) continue;
        if (request.minCounts > 0 && qc.countsPerCell[i] < request.minCounts) continue;
        if (request.maxCounts > 0 && qc.countsPerCell[i] > request.maxCounts) continue;
        kept.push_back(static_cast<int64_t>(i));
      }
      if (kept.empty()) throw cw::Error("the filters removed every cell");
      if (static_cast<int64_t>(kept.size()) != dataset.nObs()) {
        feedback.info(std::to_string(dataset.nObs() - static_cast<int64_t>(kept.size())) +
                      " cells removed by the counts-per-cell / maximum-genes filters");
        dataset = dataset.selectObs(kept);
      }
    }
    const auto result = cw::preprocess::preprocessDataset(dataset, request.options, &feedback);
    for (const auto& w : result.warnings) feedback.warning(w);
    feedback.info(result.summary());
  };
}

PreprocessDialog::PreprocessDialog(Document* document, JobQueue* jobs, QWidget* parent)
    : QDialog(parent), document_(document), jobs_(jobs) {
  setObjectName(QStringLiteral("preprocessDialog"));
  setWindowTitle(tr("Preprocess"));
  genes_ = new QcHistogram(tr("Genes per cell"), tr("genes detected"), this);
  counts_ = new QcHistogram(tr("Counts per cell"), tr("total counts"), this);
  mito_ = new QcHistogram(tr("Percent mitochondrial"), tr("% counts in MT- genes"), this);

  auto intBox = [this](int maximum) {
    auto* box = new QSpinBox(this);
    box->setRange(0, maximum);
    box->setSpecialValueText(tr("off"));
    return box;
  };
  auto realBox = [this](double minimum, double maximum, int decimals) {
    auto* box = new QDoubleSpinBox(this);
    box->setRange(minimum, maximum);
    box->setDecimals(decimals);
    box->setSpecialValueText(tr("off"));
    return box;
  };
  minGenes_ = intBox(1000000);
  maxGenes_ = intBox(1000000);
  minCounts_ = realBox(0, 1e9, 0);
  maxCounts_ = realBox(0, 1e9, 0);
  maxPctMito_ = realBox(-1, 100, 1);  // -1 = off; 0 is a real threshold (no mitochondrial counts)
  minCells_ = intBox(1000000);
  for (auto* box : {minGenes_, maxGenes_}) box->setSingleStep(50);
  for (auto* box : {minCounts_, maxCounts_}) box->setSingleStep(100);

  targetSum_ = new QDoubleSpinBox(this);
  targetSum_->setRange(0, 1e9);
  targetSum_->setDecimals(0);
  targetSum_->setSpecialValueText(tr("median of the cells' totals"));
  log1p_ = new QCheckBox(tr("log1p after normalising"), this);
  hvg_ = new QGroupBox(tr("Flag highly variable genes"), this);
  hvg_->setCheckable(true);
  nTopHvg_ = new QSpinBox(hvg_);
  nTopHvg_->setRange(1, 1000000);
  flavor_ = new QComboBox(hvg_);
  flavor_->addItems({QStringLiteral("seurat"), QStringLiteral("cell_ranger"), QStringLiteral("seurat_v3")});
  batchKey_ = new QComboBox(hvg_);
  batchKey_->addItem(tr("none"));
  if (auto d = document_->dataset())
    for (const auto& name : d->obs.columnOrder)
      if (d->obs.at(name).kind == cw::Column::Kind::Categorical) batchKey_->addItem(QString::fromStdString(name));
  auto* hvgForm = new QFormLayout(hvg_);
  hvgForm->addRow(tr("Number of genes"), nTopHvg_);
  hvgForm->addRow(tr("Flavour"), flavor_);
  hvgForm->addRow(tr("Batch key"), batchKey_);

  auto* chartsBox = new QWidget(this);
  chartsBox->setObjectName(QStringLiteral("qcCharts"));
  auto* charts = new QGridLayout(chartsBox);
  charts->setContentsMargins(0, 0, 0, 0);
  auto* filters = new QGroupBox(tr("Quality-control filters (red lines)"), this);
  auto* filterGrid = new QGridLayout(filters);
  auto addFilter = [filterGrid](int row, int column, const QString& label, QWidget* box) {
    filterGrid->addWidget(new QLabel(label), row, column * 2);
    filterGrid->addWidget(box, row, column * 2 + 1);
  };
  addFilter(0, 0, tr("Min genes"), minGenes_);
  addFilter(1, 0, tr("Max genes"), maxGenes_);
  addFilter(0, 1, tr("Min counts"), minCounts_);
  addFilter(1, 1, tr("Max counts"), maxCounts_);
  addFilter(0, 2, tr("Max % mito"), maxPctMito_);
  addFilter(1, 2, tr("Min cells per gene"), minCells_);
  charts->addWidget(genes_, 0, 0);
  charts->addWidget(counts_, 0, 1);
  charts->addWidget(mito_, 0, 2);
  summary_ = new QLabel(tr("Computing quality-control metrics…"), this);
  summary_->setObjectName(QStringLiteral("qcSummary"));
  summary_->setWordWrap(true);

  auto* normalise = new QGroupBox(tr("Normalise"), this);
  auto* normForm = new QFormLayout(normalise);
  normForm->addRow(tr("Counts per cell after normalising"), targetSum_);
  normForm->addRow(QString(), log1p_);
  auto* lower = new QHBoxLayout;
  lower->addWidget(normalise);
  lower->addWidget(hvg_);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Run"));
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    remember();
    run();
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this, &PreprocessDialog::restoreDefaults);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(chartsBox, 1);
  layout->addWidget(filters);
  layout->addWidget(summary_);
  layout->addLayout(lower);
  layout->addWidget(buttons);

  restoreDefaults();
  restore();
  for (auto* box : {minGenes_, maxGenes_, minCells_})
    connect(box, &QSpinBox::valueChanged, this, &PreprocessDialog::updateThresholds);
  for (auto* box : {minCounts_, maxCounts_, maxPctMito_})
    connect(box, &QDoubleSpinBox::valueChanged, this, &PreprocessDialog::updateThresholds);
  updateThresholds();
  resize(1100, 640);

  // QC metrics on the engine thread; the dialog may be closed before they land.
  QPointer<PreprocessDialog> self(this);
  auto snapshot = document_->dataset();
  jobs_->enqueue(
      tr("Quality-control metrics"),
      [snapshot](cw::Feedback&) -> std::any {
        if (!snapshot) throw cw::Error("open a dataset first");
        return computeQcValues(*snapshot);
      },
      [self](std::any& result) {
        if (!self) return;
        auto qc = std::any_cast<QcValues>(std::move(result));
        self->genes_->setValues(std::move(qc.genesPerCell));
        self->counts_->setValues(std::move(qc.countsPerCell));
        self->mito_->setValues(std::move(qc.pctMito));
        if (qc.nMitoGenes == 0) self->mito_->chart()->setTitle(tr("Percent mitochondrial (no MT- genes found)"));
        self->qcReady_ = true;
        self->updateThresholds();
        Q_EMIT self->qcComputed();
      });
}

void PreprocessDialog::restoreDefaults() {
  const cw::preprocess::PreprocessOptions o;  // the engine's (and the CLI's) defaults
  minGenes_->setValue(static_cast<int>(o.filters.minGenes));
  maxGenes_->setValue(0);
  minCounts_->setValue(0);
  maxCounts_->setValue(0);
  maxPctMito_->setValue(o.filters.maxPctMito < 0 ? -1 : o.filters.maxPctMito);
  minCells_->setValue(static_cast<int>(o.filters.minCells));
  targetSum_->setValue(o.targetSum);
  log1p_->setChecked(o.log1p);
  hvg_->setChecked(o.nTopHvg > 0);
  nTopHvg_->setValue(o.nTopHvg > 0 ? static_cast<int>(o.nTopHvg) : 2000);
  flavor_->setCurrentText(QString::fromLatin1(cw::preprocess::hvgFlavorName(o.hvgFlavor)));
  batchKey_->setCurrentIndex(0);
}

PreprocessRequest PreprocessDialog::request() const {
  PreprocessRequest r;
  auto& o = r.options;
  o.filters.minGenes = minGenes_->value();
  o.filters.minCells = minCells_->value();
  o.filters.maxPctMito = maxPctMito_->value() < 0 ? -1.0 : maxPctMito_->value();
  r.maxGenes = maxGenes_->value();
  r.minCounts = minCounts_->value();
  r.maxCounts = maxCounts_->value();
  o.targetSum = targetSum_->value();
  o.log1p = log1p_->isChecked();
  o.nTopHvg = hvg_->isChecked() ? nTopHvg_->value() : 0;
  o.hvgFlavor = cw::preprocess::parseHvgFlavor(flavor_->currentText().toStdString());
  if (batchKey_->currentIndex() > 0) o.batchKey = batchKey_->currentText().toStdString();
  return r;
}

JobId PreprocessDialog::run() {
  return enqueueDatasetEdit(jobs_, document_, tr("Preprocess"), preprocessStep(request()));
}

void PreprocessDialog::updateThresholds() {
  genes_->setThreshold(QcHistogram::Lower, minGenes_->value(), minGenes_->value() > 0);
  genes_->setThreshold(QcHistogram::Upper, maxGenes_->value(), maxGenes_->value() > 0);
  counts_->setThreshold(QcHistogram::Lower, minCounts_->value(), minCounts_->value() > 0);
  counts_->setThreshold(QcHistogram::Upper, maxCounts_->value(), maxCounts_->value() > 0);
  mito_->setThreshold(QcHistogram::Upper, maxPctMito_->value(), maxPctMito_->value() >= 0);
  updateKeptCount();
}

void PreprocessDialog::updateKeptCount() {
  if (!qcReady_) return;
  const PreprocessRequest r = request();
  const auto& genes = genes_->values();
  const auto& counts = counts_->values();
  const auto& mito = mito_->values();
  int64_t kept = 0;
  for (size_t i = 0; i < genes.size(); ++i) {
    if (genes[i] < static_cast<double>(r.options.filters.minGenes)) continue;
    if (r.maxGenes > 0 && genes[i] > static_cast<double>(r.maxGenes)) continue;
    if (r.minCounts > 0 && counts[i] < r.minCounts) continue;
    if (r.maxCounts > 0 && counts[i] > r.maxCounts) continue;
    if (r.options.filters.maxPctMito >= 0 && mito[i] > r.options.filters.maxPctMito) continue;
    ++kept;
  }
  summary_->setText(tr("%1 of %2 cells pass the cell filters.").arg(kept).arg(genes.size()));
}

void PreprocessDialog::remember() const {
  QSettings s;
  s.beginGroup(QString::fromLatin1(kGroup));
  s.setValue(QStringLiteral("min_genes"), minGenes_->value());
  s.setValue(QStringLiteral("max_genes"), maxGenes_->value());
  s.setValue(QStringLiteral("min_counts"), minCounts_->value());
  s.setValue(QStringLiteral("max_counts"), maxCounts_->value());
  s.setValue(QStringLiteral("max_pct_mito"), maxPctMito_->value());
  s.setValue(QStringLiteral("min_cells"), minCells_->value());
  s.setValue(QStringLiteral("target_sum"), targetSum_->value());
  s.setValue(QStringLiteral("log1p"), log1p_->isChecked());
  s.setValue(QStringLiteral("hvg"), hvg_->isChecked());
  s.setValue(QStringLiteral("n_top_genes"), nTopHvg_->value());
  s.setValue(QStringLiteral("flavor"), flavor_->currentText());
}

void PreprocessDialog::restore() {
  QSettings s;
  s.beginGroup(QString::fromLatin1(kGroup));
  if (!s.contains(QStringLiteral("target_sum"))) return;
  minGenes_->setValue(s.value(QStringLiteral("min_genes")).toInt());
  maxGenes_->setValue(s.value(QStringLiteral("max_genes")).toInt());
  minCounts_->setValue(s.value(QStringLiteral("min_counts")).toDouble());
  maxCounts_->setValue(s.value(QStringLiteral("max_counts")).toDouble());
  maxPctMito_->setValue(s.value(QStringLiteral("max_pct_mito"), -1).toDouble());
  minCells_->setValue(s.value(QStringLiteral("min_cells")).toInt());
  targetSum_->setValue(s.value(QStringLiteral("target_sum")).toDouble());
  log1p_->setChecked(s.value(QStringLiteral("log1p"), true).toBool());
  hvg_->setChecked(s.value(QStringLiteral("hvg")).toBool());
  nTopHvg_->setValue(s.value(QStringLiteral("n_top_genes"), 2000).toInt());
  flavor_->setCurrentText(s.value(QStringLiteral("flavor"), QStringLiteral("seurat")).toString());
}

}  // namespace cw::ui
