#pragma once
// 2-D scatter of any obsm embedding, drawn with VTK on a VtkGlWidget. Cells are coloured by
// a categorical annotation (legend with counts; untick to hide), a numeric annotation or a
// gene's expression (viridis + colour bar; the expression is read on the engine thread).
// Drag pans, the wheel zooms about the cursor, double-click resets; hovering names the cell;
// Shift+drag (or the lasso button) selects cells, which can become a category or a DE test.
// Above kLodThreshold cells a subsample is drawn while the view moves.
#include <QPointer>
#include <QWidget>

#include <cstdint>
#include <memory>
#include <vector>

#include <vtkNew.h>

#include "cellwright/io/dataset.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QStackedWidget;
class QTimer;
class QToolButton;
class vtkActor;
class vtkCellArray;
class vtkPoints;
class vtkPolyData;
class vtkUnsignedCharArray;

namespace cw::ui {

class CategoryLegend;
class ColorBar;
class Document;
class JobQueue;
class LassoOverlay;
class VtkGlWidget;

class EmbeddingView : public QWidget {
  Q_OBJECT
 public:
  static constexpr int64_t kLodThreshold = 50000;
  static constexpr int64_t kLodCells = 20000;

  EmbeddingView(Document* document, JobQueue* jobs, QWidget* parent = nullptr);
  ~EmbeddingView() override;

  // obsm keys with at least two columns.
  QStringList embeddingKeys() const;
  QString embedding() const { return embeddingKey_; }
  // Accepts "X_umap" or "umap". Returns false (and changes nothing) when the key is absent.
  bool setEmbedding(const QString& key);
  // An obs column, or a gene name (its expression is fetched by a job; colorsApplied fires
  // when it lands). Returns false when neither exists.
  bool setColorBy(const QString& name);
  QString colorBy() const { return colorBy_; }

  // Colour given to a cell by the current colouring.
  QColor cellColor(int64_t cell) const;
  // Where a cell is drawn, in canvas (VtkGlWidget) logical pixels.
  QPointF cellScreenPosition(int64_t cell) const;
  bool isCellVisible(int64_t cell) const;
  int pointSize() const { return pointSize_; }
  VtkGlWidget* canvas() const { return canvas_; }
  CategoryLegend* legend() const { return legend_; }
  void setCategoryVisible(int category, bool visible);
  void resetCamera();
  // Zoom by `factor` (> 1: closer) about a canvas position.
  void zoomAt(const QPointF& position, double factor);
  void panBy(const QPointF& pixels);
  bool isShowingLevelOfDetail() const;

  // Cells whose drawn position lies inside `polygon` (canvas pixels), visible ones only.
  std::vector<int64_t> cellsInPolygon(const QPolygonF& polygon) const;
  const std::vector<int64_t>& selection() const { return selection_; }
  void setSelection(std::vector<int64_t> cells);
  // Cell nearest to a canvas position within `radius` pixels, or -1.
  int64_t cellAt(const QPointF& position, double radius) const;

 Q_SIGNALS:
  void colorsApplied();
  void selectionChanged();
  // Lasso follow-ups, handled by the main window through the job queue.
  void saveSelectionRequested(const std::vector<int64_t>& cells);
  void differentialExpressionRequested(const std::vector<int64_t>& cells);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void onDatasetChanged();
  void rebuildPoints();
  void applyCategorical(const cw::Column& column);
  void applyNumeric(const std::vector<double>& values, const QString& title);
  void uploadColors();
  void rebuildVisibleCells();
  void startInteraction();
  void endInteraction();
  std::vector<QPointF> projectAll() const;
  QPointF canvasToWorld(const QPointF& position) const;
  void showHover(const QPointF& position, const QPoint& global);
  void showContextMenu(const QPoint& global);
  void render();

  Document* document_;
  QPointer<JobQueue> jobs_;
  std::shared_ptr<const cw::Dataset> dataset_;
  QString embeddingKey_, colorBy_;

  QComboBox* embeddingCombo_;
  QComboBox* colorCombo_;
  QLineEdit* geneSearch_;
  QToolButton* lassoButton_;
  QLabel* statusLabel_;
  VtkGlWidget* canvas_;
  LassoOverlay* lasso_;
  QStackedWidget* sidePanel_;
  CategoryLegend* legend_;
  ColorBar* colorBar_;
  QTimer* settleTimer_;

  vtkNew<vtkPoints> points_;
  vtkNew<vtkUnsignedCharArray> colors_;
  vtkNew<vtkPolyData> full_, lod_, selected_;
  vtkNew<vtkActor> fullActor_, lodActor_, selectedActor_;

  std::vector<QRgb> cellColors_;
  std::vector<int32_t> categoryOfCell_;  // -1: none or not categorical
  std::vector<bool> hiddenCategory_;
  std::vector<int64_t> selection_;
  std::vector<int64_t> lodSample_;
  int pointSize_ = 4;
  bool interacting_ = false;
  bool cameraFitted_ = true;  // no pan/zoom since the last reset
  QStringList knownKeys_;     // obsm keys of the previous snapshot
  bool lassoing_ = false;
  QPointF lastMouse_;
  quint64 geneRequest_ = 0;  // newest gene colouring asked for; older replies are dropped
};

}  // namespace cw::ui
