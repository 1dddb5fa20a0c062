#pragma once
// Table model over a dataset's cell annotations (obs): one row per cell, the index first.
#include <QAbstractTableModel>

#include <memory>

#include "cellwright/io/dataset.h"

namespace cw::ui {

class ObsTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  using QAbstractTableModel::QAbstractTableModel;
  void setDataset(std::shared_ptr<const cw::Dataset> dataset);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const cw::Dataset> dataset_;
};

}  // namespace cw::ui
