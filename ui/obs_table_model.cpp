#include "cellwright/ui/obs_table_model.h"

#include <cmath>

namespace cw::ui {

void ObsTableModel::setDataset(std::shared_ptr<const cw::Dataset> dataset) {
  beginResetModel();
  dataset_ = std::move(dataset);
  endResetModel();
}

int ObsTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !dataset_ ? 0 : static_cast<int>(dataset_->obs.size());
}

int ObsTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() || !dataset_ ? 0 : static_cast<int>(dataset_->obs.columnOrder.size()) + 1;
}

QVariant ObsTableModel::data(const QModelIndex& index, int role) const {
  if (!dataset_ || !index.isValid()) return {};
  if (role != Qt::DisplayRole && role != Qt::UserRole) return {};
  const size_t row = static_cast<size_t>(index.row());
  if (index.column() == 0) return QString::fromStdString(dataset_->obs.index[row]);
  const auto& column = dataset_->obs.columns.at(dataset_->obs.columnOrder[index.column() - 1]);
  // Numbers sort as numbers through Qt::DisplayRole when returned as double.
  if (column.kind == cw::Column::Kind::Numeric) {
    const double v = column.numbers[row];
    return std::isnan(v) ? QVariant() : QVariant(v);
  }
  return QString::fromStdString(column.valueAsString(row));
}

QVariant ObsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || !dataset_) return {};
  if (orientation == Qt::Vertical) return section + 1;
  if (section == 0) return tr("cell");
  return QString::fromStdString(dataset_->obs.columnOrder[section - 1]);
}

}  // namespace cw::ui
