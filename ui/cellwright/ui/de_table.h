#pragma once
// A differential-expression result as a sortable table (gene, score, log2 fold change,
// p-value, adjusted p-value) with CSV export.
#include <QWidget>

#include <string>
#include <vector>

#include "cellwright/analysis/de.h"

class QTableWidget;

namespace cw::ui {

class DeTable : public QWidget {
  Q_OBJECT
 public:
  explicit DeTable(QWidget* parent = nullptr);
  void setResult(const cw::analysis::DeComparison& comparison, const std::vector<std::string>& geneNames);
  QTableWidget* table() const { return table_; }
  // Writes the table as CSV; returns false when the file cannot be written.
  bool exportCsv(const QString& path) const;

 private:
  QTableWidget* table_;
};

}  // namespace cw::ui
