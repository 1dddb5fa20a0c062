#include "cellwright/ui/dataset_panel.h"

#include <QFileInfo>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "cellwright/ui/document.h"

namespace cw::ui {

DatasetPanel::DatasetPanel(Document* document, QWidget* parent) : QWidget(parent), document_(document) {
  tree_ = new QTreeWidget(this);
  tree_->setHeaderLabels({tr("Item"), tr("Value")});
  tree_->setObjectName(QStringLiteral("datasetTree"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(tree_);
  connect(document_, &Document::datasetChanged, this, &DatasetPanel::refresh);
  refresh();
}

static const char* kindName(cw::Column::Kind kind) {
  switch (kind) {
    case cw::Column::Kind::Categorical: return "categorical";
    case cw::Column::Kind::Numeric: return "numeric";
    case cw::Column::Kind::String: return "text";
    case cw::Column::Kind::Bool: return "yes/no";
  }
  return "";
}

void DatasetPanel::refresh() {
  tree_->clear();
  auto dataset = document_->dataset();
  if (!dataset) {
    new QTreeWidgetItem(tree_, {tr("No dataset open"), tr("File → Open…")});
    return;
  }
  auto add = [this](QTreeWidgetItem* parent, const QString& a, const QString& b) {
    return parent ? new QTreeWidgetItem(parent, {a, b}) : new QTreeWidgetItem(tree_, {a, b});
  };
  add(nullptr, tr("File"), QFileInfo(document_->path()).fileName());
  add(nullptr, tr("Cells"), QLocale().toString(static_cast<qlonglong>(dataset->nObs())));
  add(nullptr, tr("Genes"), QLocale().toString(static_cast<qlonglong>(dataset->nVars())));
  const char* source = cw::countsSourceName(dataset->countsSource);
  add(nullptr, tr("Raw counts"), *source ? QString::fromLatin1(source) : tr("not found (X looks normalised)"));
  auto* obs = add(nullptr, tr("Cell annotations"), QString::number(dataset->obs.columnOrder.size()));
  for (const auto& name : dataset->obs.columnOrder) {
    const auto& column = dataset->obs.columns.at(name);
    QString detail = QString::fromLatin1(kindName(column.kind));
    if (column.kind == cw::Column::Kind::Categorical)
      detail += tr(", %1 categories").arg(column.categories.size());
    add(obs, QString::fromStdString(name), detail);
  }
  auto* embeddings = add(nullptr, tr("Embeddings"), QString::number(dataset->obsm.size()));
  for (const auto& [key, m] : dataset->obsm)
    add(embeddings, QString::fromStdString(key), tr("%1 × %2").arg(m.rows).arg(m.cols));
  auto* layers = add(nullptr, tr("Layers"), QString::number(dataset->layers.size()));
  for (const auto& [key, m] : dataset->layers) add(layers, QString::fromStdString(key), tr("%1 stored").arg(m.nnz()));
  tree_->expandItem(obs);
  tree_->resizeColumnToContents(0);
}

}  // namespace cw::ui
