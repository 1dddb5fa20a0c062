#pragma once
// Dock contents: what the open dataset holds (cells, genes, where raw counts are, the obs
// columns a user can colour by, embeddings, layers).
#include <QWidget>

class QTreeWidget;

namespace cw::ui {

class Document;

class DatasetPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DatasetPanel(Document* document, QWidget* parent = nullptr);
  QTreeWidget* tree() const { return tree_; }

 private:
  void refresh();
  Document* document_;
  QTreeWidget* tree_;
};

}  // namespace cw::ui
