#pragma once
// The open dataset, shared by every panel and view. The engine thread only ever sees
// immutable snapshots (shared_ptr<const Dataset>); edits make a new snapshot and replace it
// here on the GUI thread, so views never race with running jobs.
#include <QObject>
#include <QString>

#include <memory>

#include "cellwright/io/dataset.h"

namespace cw::ui {

class Document : public QObject {
  Q_OBJECT
 public:
  using QObject::QObject;

  std::shared_ptr<const cw::Dataset> dataset() const { return dataset_; }
  QString path() const { return path_; }
  bool isEmpty() const { return !dataset_; }
  bool isModified() const { return modified_; }

  // Replaces the dataset (after loading: modified = false; after an edit: true).
  void setDataset(std::shared_ptr<const cw::Dataset> dataset, const QString& path, bool modified);
  void markSaved(const QString& path);

 Q_SIGNALS:
  void datasetChanged();

 private:
  std::shared_ptr<const cw::Dataset> dataset_;
  QString path_;
  bool modified_ = false;
};

}  // namespace cw::ui
