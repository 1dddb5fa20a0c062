#include "cellwright/ui/de_table.h"

#include "cellwright/ui/export.h"

#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace cw::ui {

namespace {

QTableWidgetItem* numberItem(double value) {
  auto* item = new QTableWidgetItem;
  item->setData(Qt::DisplayRole, value);  // numeric sort
  item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
  return item;
}

}  // namespace

DeTable::DeTable(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("deTable"));
  table_ = new QTableWidget(0, 5, this);
  table_->setHorizontalHeaderLabels({tr("Gene"), tr("Score"), tr("log2 fold change"), tr("p-value"), tr("Adjusted p")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  auto* exportButton = new QPushButton(tr("Export CSV…"), this);
  connect(exportButton, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export table"), QStringLiteral("de.csv"), tr("CSV (*.csv)"));
    if (!path.isEmpty()) exportCsv(path);
  });
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table_);
  layout->addWidget(exportButton, 0, Qt::AlignRight);
}

void DeTable::setResult(const cw::analysis::DeComparison& comparison, const std::vector<std::string>& geneNames) {
  table_->setSortingEnabled(false);
  table_->setRowCount(static_cast<int>(comparison.genes.size()));
  int row = 0;
  for (const auto& g : comparison.genes) {
    const auto index = static_cast<size_t>(g.gene);
    auto* name = new QTableWidgetItem(QString::fromStdString(index < geneNames.size() ? geneNames[index] : std::to_string(g.gene)));
    name->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    table_->setItem(row, 0, name);
    table_->setItem(row, 1, numberItem(g.score));
    table_->setItem(row, 2, numberItem(g.logFoldChange));
    table_->setItem(row, 3, numberItem(g.pval));
    table_->setItem(row, 4, numberItem(g.pvalAdj));
    ++row;
  }
  table_->setSortingEnabled(true);
  // Enabling sorting sorts by the header's indicator (the gene name): back to scanpy's order.
  table_->sortByColumn(1, Qt::DescendingOrder);
  setWindowTitle(tr("%1 vs %2").arg(QString::fromStdString(comparison.group), QString::fromStdString(comparison.reference)));
}

bool DeTable::exportCsv(const QString& path) const { return cw::ui::exportCsv(table_->model(), path); }

}  // namespace cw::ui
