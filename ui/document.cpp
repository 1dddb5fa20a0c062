#include "cellwright/ui/document.h"

namespace cw::ui {

void Document::setDataset(std::shared_ptr<const cw::Dataset> dataset, const QString& path, bool modified) {
  dataset_ = std::move(dataset);
  path_ = path;
  modified_ = modified;
  Q_EMIT datasetChanged();
}

void Document::markSaved(const QString& path) {
  path_ = path;
  modified_ = false;
}

}  // namespace cw::ui
