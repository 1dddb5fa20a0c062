#include "cellwright/ui/embedding_view.h"

#include <QComboBox>
#include <QCompleter>
#include <QContextMenuEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMouseEvent>
#include <QStackedWidget>
#include <QStringListModel>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <QWheelEvent>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkMatrix4x4.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "cellwright/ui/document.h"
#include "cellwright/ui/embedding_legend.h"
#include "cellwright/ui/gene_values.h"
#include "cellwright/ui/job_queue.h"
#include "cellwright/ui/lasso_overlay.h"
#include "cellwright/ui/palette.h"
#include "cellwright/ui/vtk_gl_widget.h"

namespace cw::ui {

namespace {

void setupActor(vtkActor* actor, vtkPolyData* data, bool scalarColors) {
  vtkNew<vtkPolyDataMapper> mapper;
  mapper->SetInputData(data);
  mapper->SetScalarVisibility(scalarColors);
  mapper->SetScalarModeToUsePointData();
  mapper->SetColorModeToDirectScalars();
  actor->SetMapper(mapper);
  actor->GetProperty()->LightingOff();  // exact annotation colours
}

void setVerts(vtkPolyData* data, const std::vector<int64_t>& cells) {
  vtkNew<vtkCellArray> verts;
  verts->AllocateExact(static_cast<vtkIdType>(cells.size()), static_cast<vtkIdType>(cells.size()));
  for (int64_t c : cells) {
    const vtkIdType id = c;
    verts->InsertNextCell(1, &id);
  }
  data->SetVerts(verts);
}

bool colorable(const cw::Column& column) {
  using K = cw::Column::Kind;
  return column.kind == K::Categorical || column.kind == K::Numeric || column.kind == K::Bool;
}

}  // namespace

EmbeddingView::EmbeddingView(Document* document, JobQueue* jobs, QWidget* parent)
    : QWidget(parent), document_(document), jobs_(jobs) {
  setObjectName(QStringLiteral("embeddingView"));
  embeddingCombo_ = new QComboBox(this);
  embeddingCombo_->setObjectName(QStringLiteral("embeddingCombo"));
  embeddingCombo_->setToolTip(tr("Embedding (obsm key)"));
  colorCombo_ = new QComboBox(this);
  colorCombo_->setObjectName(QStringLiteral("colorCombo"));
  colorCombo_->setToolTip(tr("Colour cells by an annotation"));
  colorCombo_->setMinimumContentsLength(14);
  geneSearch_ = new QLineEdit(this);
  geneSearch_->setObjectName(QStringLiteral("geneSearch"));
  geneSearch_->setPlaceholderText(tr("Colour by gene…"));
  geneSearch_->setCompleter(new QCompleter(new QStringListModel(this), this));
  geneSearch_->completer()->setCaseSensitivity(Qt::CaseInsensitive);
  lassoButton_ = new QToolButton(this);
  lassoButton_->setText(tr("Lasso"));
  lassoButton_->setCheckable(true);
  lassoButton_->setToolTip(tr("Draw around cells to select them (or hold Shift while dragging)"));
  auto* reset = new QToolButton(this);
  reset->setText(tr("Reset view"));
  statusLabel_ = new QLabel(this);

  canvas_ = new VtkGlWidget(this);
  canvas_->setObjectName(QStringLiteral("embeddingCanvas"));
  canvas_->setMouseTracking(true);
  canvas_->installEventFilter(this);
  lasso_ = new LassoOverlay(canvas_);
  legend_ = new CategoryLegend(this);
  colorBar_ = new ColorBar(this);
  sidePanel_ = new QStackedWidget(this);
  sidePanel_->addWidget(legend_);
  sidePanel_->addWidget(colorBar_);
  sidePanel_->setMaximumWidth(260);
  settleTimer_ = new QTimer(this);
  settleTimer_->setSingleShot(true);
  settleTimer_->setInterval(200);
  connect(settleTimer_, &QTimer::timeout, this, &EmbeddingView::endInteraction);

  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Embedding"), this));
  bar->addWidget(embeddingCombo_);
  bar->addWidget(new QLabel(tr("Colour"), this));
  bar->addWidget(colorCombo_);
  bar->addWidget(geneSearch_);
  bar->addWidget(lassoButton_);
  bar->addWidget(reset);
  bar->addWidget(statusLabel_, 1);
  auto* body = new QHBoxLayout;
  body->addWidget(canvas_, 1);
  body->addWidget(sidePanel_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(bar);
  layout->addLayout(body, 1);

  vtkRenderer* renderer = canvas_->renderer();
  renderer->SetBackground(1, 1, 1);
  renderer->GetActiveCamera()->ParallelProjectionOn();
  for (vtkPolyData* data : {full_.Get(), lod_.Get(), selected_.Get()}) {
    data->SetPoints(points_);
    data->GetPointData()->SetScalars(colors_);
  }
  colors_->SetNumberOfComponents(3);
  colors_->SetName("colors");
  setupActor(selectedActor_, selected_, false);
  selectedActor_->GetProperty()->SetColor(0, 0, 0);
  setupActor(fullActor_, full_, true);
  setupActor(lodActor_, lod_, true);
  lodActor_->SetVisibility(false);
  // Selected cells: larger black squares behind the coloured points, leaving an outline.
  selectedActor_->SetPosition(0, 0, -1);  // behind the cells: only the outline shows
  renderer->AddActor(selectedActor_);
  renderer->AddActor(fullActor_);
  renderer->AddActor(lodActor_);

  connect(embeddingCombo_, &QComboBox::currentTextChanged, this, [this](const QString& key) {
    if (!key.isEmpty() && key != embeddingKey_) setEmbedding(key);
  });
  connect(colorCombo_, &QComboBox::currentTextChanged, this, [this](const QString& name) {
    if (!name.isEmpty() && name != colorBy_) setColorBy(name);
  });
  connect(geneSearch_, &QLineEdit::returnPressed, this, [this] {
    if (!setColorBy(geneSearch_->text().trimmed())) statusLabel_->setText(tr("No gene or annotation named '%1'").arg(geneSearch_->text()));
  });
  connect(reset, &QToolButton::clicked, this, &EmbeddingView::resetCamera);
  connect(legend_, &CategoryLegend::visibilityChanged, this, &EmbeddingView::setCategoryVisible);
  connect(document_, &Document::datasetChanged, this, &EmbeddingView::onDatasetChanged);
  onDatasetChanged();
}

EmbeddingView::~EmbeddingView() = default;

QStringList EmbeddingView::embeddingKeys() const {
  QStringList keys;
  if (dataset_)
    for (const auto& [key, matrix] : dataset_->obsm)
      if (matrix.cols >= 2 && matrix.rows == dataset_->nObs()) keys << QString::fromStdString(key);
  return keys;
}

void EmbeddingView::onDatasetChanged() {
  dataset_ = document_->dataset();
  const QStringList keys = embeddingKeys();
  QStringList colorable_;
  QStringList genes;
  if (dataset_) {
    for (const auto& name : dataset_->obs.columnOrder)
      if (colorable(dataset_->obs.at(name))) colorable_ << QString::fromStdString(name);
    for (const auto& g : dataset_->var.index) genes << QString::fromStdString(g);
  }
  static_cast<QStringListModel*>(geneSearch_->completer()->model())->setStringList(genes);
  {
    QSignalBlocker b1(embeddingCombo_), b2(colorCombo_);
    embeddingCombo_->clear();
    embeddingCombo_->addItems(keys);
    colorCombo_->clear();
    colorCombo_->addItem(QString());
    colorCombo_->addItems(colorable_);
  }
  selection_.clear();
  QString key = keys.contains(embeddingKey_) ? embeddingKey_ : QString();
  // A UMAP that just appeared (an analysis finished) takes over from the PCA shown meanwhile.
  if (keys.contains(QStringLiteral("X_umap")) && !knownKeys_.contains(QStringLiteral("X_umap"))) key = QStringLiteral("X_umap");
  knownKeys_ = keys;
  for (const char* preferred : {"X_umap", "X_tsne", "X_draw_graph_fr", "X_pca"})
    if (key.isEmpty() && keys.contains(QString::fromLatin1(preferred))) key = QString::fromLatin1(preferred);
  if (key.isEmpty() && !keys.isEmpty()) key = keys.front();
  const QString previousColor = colorBy_;
  embeddingKey_.clear();
  if (key.isEmpty()) {
    points_->SetNumberOfPoints(0);
    cellColors_.clear();
    rebuildVisibleCells();
    statusLabel_->setText(dataset_ ? tr("No 2-D embedding yet: run PCA or UMAP") : QString());
    render();
    return;
  }
  setEmbedding(key);
  colorBy_.clear();
  if (!previousColor.isEmpty() && setColorBy(previousColor)) return;
  // Default colouring: the first categorical annotation (as the CLI contract's --view umap).
  for (const auto& name : dataset_->obs.columnOrder)
    if (dataset_->obs.at(name).kind == cw::Column::Kind::Categorical) {
      setColorBy(QString::fromStdString(name));
      return;
    }
}

bool EmbeddingView::setEmbedding(const QString& requested) {
  if (!dataset_) return false;
  QString key = requested;
  if (!dataset_->obsm.count(key.toStdString())) key = QStringLiteral("X_") + requested;
  if (!embeddingKeys().contains(key)) return false;
  embeddingKey_ = key;
  statusLabel_->clear();
  {
    QSignalBlocker block(embeddingCombo_);
    embeddingCombo_->setCurrentText(key);
  }
  rebuildPoints();
  if (colorBy_.isEmpty()) {
    cellColors_.assign(static_cast<size_t>(dataset_->nObs()), QColor(31, 119, 180).rgb());
    categoryOfCell_.assign(cellColors_.size(), -1);
    uploadColors();
  }
  rebuildVisibleCells();
  resetCamera();
  return true;
}

void EmbeddingView::rebuildPoints() {
  const cw::DenseMatrix& m = dataset_->obsm.at(embeddingKey_.toStdString());
  const int64_t n = m.rows;
  points_->SetDataTypeToFloat();
  points_->SetNumberOfPoints(n);
  for (int64_t i = 0; i < n; ++i) points_->SetPoint(i, m.at(i, 0), m.at(i, 1), 0.0);
  points_->Modified();
  pointSize_ = static_cast<int>(std::clamp(std::lround(160.0 / std::sqrt(std::max<double>(1, n))), 2L, 10L));
  fullActor_->GetProperty()->SetPointSize(static_cast<float>(pointSize_));
  lodActor_->GetProperty()->SetPointSize(static_cast<float>(pointSize_ + 1));
  selectedActor_->GetProperty()->SetPointSize(static_cast<float>(pointSize_ + 4));
  lodSample_.clear();
  if (n > kLodThreshold) {
    std::vector<int64_t> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), 0);
    std::mt19937_64 rng(0);
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(kLodCells);
    std::sort(all.begin(), all.end());
    lodSample_ = std::move(all);
  }
}

bool EmbeddingView::setColorBy(const QString& name) {
  if (!dataset_ || name.isEmpty()) return false;
  const std::string key = name.toStdString();
  if (dataset_->obs.has(key) && colorable(dataset_->obs.at(key))) {
    colorBy_ = name;
    ++geneRequest_;
    const cw::Column& column = dataset_->obs.at(key);
    if (column.kind == cw::Column::Kind::Numeric) {
      applyNumeric(column.numbers, name);
    } else if (column.kind == cw::Column::Kind::Bool) {
      std::vector<int32_t> codes(column.bools.begin(), column.bools.end());
      applyCategorical(cw::Column::categorical(std::move(codes), {"False", "True"}));
    } else {
      applyCategorical(column);
    }
    QSignalBlocker block(colorCombo_);
    colorCombo_->setCurrentText(name);
    geneSearch_->clear();
    return true;
  }
  const auto& genes = dataset_->var.index;
  auto it = std::find(genes.begin(), genes.end(), key);
  if (it == genes.end()) {
    // Case-insensitive second chance, as biologists type gene names loosely.
    it = std::find_if(genes.begin(), genes.end(), [&](const std::string& g) { return QString::fromStdString(g).compare(name, Qt::CaseInsensitive) == 0; });
    if (it == genes.end()) return false;
  }
  if (!jobs_) return false;
  const int64_t gene = it - genes.begin();
  const QString geneName = QString::fromStdString(*it);
  colorBy_ = geneName;
  {
    QSignalBlocker block(colorCombo_);
    colorCombo_->setCurrentIndex(0);  // the blank entry: not an annotation
  }
  geneSearch_->setText(geneName);
  const quint64 request = ++geneRequest_;
  auto snapshot = dataset_;
  statusLabel_->setText(tr("Reading %1…").arg(geneName));
  jobs_->enqueue(
      tr("Expression of %1").arg(geneName),
      [snapshot, gene](cw::Feedback& feedback) -> std::any { return geneValues(snapshot->X, gene, &feedback); },
      [this, request, snapshot, geneName](std::any& result) {
        if (request != geneRequest_ || snapshot != dataset_) return;  // superseded
        applyNumeric(std::any_cast<std::vector<double>&>(result), geneName);
        statusLabel_->clear();
      });
  return true;
}

void EmbeddingView::applyCategorical(const cw::Column& column) {
  const int k = static_cast<int>(column.categories.size());
  const QVector<QColor> palette = categoricalPalette(k);
  QVector<qint64> counts(k, 0);
  const size_t n = column.codes.size();
  cellColors_.resize(n);
  categoryOfCell_.assign(column.codes.begin(), column.codes.end());
  for (size_t i = 0; i < n; ++i) {
    const int32_t c = column.codes[i];
    if (c >= 0 && c < k) {
      ++counts[c];
      cellColors_[i] = palette[c].rgb();
    } else {
      cellColors_[i] = missingColor().rgb();
      categoryOfCell_[i] = -1;
    }
  }
  hiddenCategory_.assign(static_cast<size_t>(k), false);
  QStringList names;
  for (const auto& c : column.categories) names << QString::fromStdString(c);
  legend_->setCategories(names, palette, counts);
  sidePanel_->setCurrentWidget(legend_);
  uploadColors();
  rebuildVisibleCells();
  render();
  Q_EMIT colorsApplied();
}

void EmbeddingView::applyNumeric(const std::vector<double>& values, const QString& title) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (!std::isnan(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!(lo <= hi)) lo = 0, hi = 1;
  const double span = hi > lo ? hi - lo : 1.0;
  cellColors_.resize(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    cellColors_[i] = viridis(std::isnan(values[i]) ? values[i] : (values[i] - lo) / span).rgb();
  categoryOfCell_.assign(values.size(), -1);
  hiddenCategory_.clear();
  colorBar_->setRange(title, lo, hi);
  sidePanel_->setCurrentWidget(colorBar_);
  uploadColors();
  // Highest values drawn last (on top), as scanpy does for continuous colourings.
  std::vector<int64_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const double va = std::isnan(values[a]) ? -INFINITY : values[a], vb = std::isnan(values[b]) ? -INFINITY : values[b];
    return va < vb;
  });
  setVerts(full_, order);
  if (!lodSample_.empty()) setVerts(lod_, lodSample_);
  render();
  Q_EMIT colorsApplied();
}

void EmbeddingView::uploadColors() {
  colors_->SetNumberOfTuples(static_cast<vtkIdType>(cellColors_.size()));
  for (size_t i = 0; i < cellColors_.size(); ++i) {
    const QRgb c = cellColors_[i];
    const unsigned char rgb[3] = {static_cast<unsigned char>(qRed(c)), static_cast<unsigned char>(qGreen(c)),
                                  static_cast<unsigned char>(qBlue(c))};
    colors_->SetTypedTuple(static_cast<vtkIdType>(i), rgb);
  }
  colors_->Modified();
}

bool EmbeddingView::isCellVisible(int64_t cell) const {
  if (cell < 0 || cell >= static_cast<int64_t>(categoryOfCell_.size())) return false;
  const int32_t c = categoryOfCell_[static_cast<size_t>(cell)];
  return c < 0 || c >= static_cast<int32_t>(hiddenCategory_.size()) || !hiddenCategory_[static_cast<size_t>(c)];
}

void EmbeddingView::rebuildVisibleCells() {
  std::vector<int64_t> visible, visibleLod, visibleSelected;
  const int64_t n = points_->GetNumberOfPoints();
  visible.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    if (isCellVisible(i)) visible.push_back(i);
  for (int64_t i : lodSample_)
    if (isCellVisible(i)) visibleLod.push_back(i);
  for (int64_t i : selection_)
    if (isCellVisible(i)) visibleSelected.push_back(i);
  setVerts(full_, visible);
  setVerts(lod_, visibleLod);
  setVerts(selected_, visibleSelected);
}

void EmbeddingView::setCategoryVisible(int category, bool visible) {
  if (category < 0 || category >= static_cast<int>(hiddenCategory_.size())) return;
  hiddenCategory_[static_cast<size_t>(category)] = !visible;
  rebuildVisibleCells();
  render();
}

QColor EmbeddingView::cellColor(int64_t cell) const {
  return cell >= 0 && cell < static_cast<int64_t>(cellColors_.size()) ? QColor(cellColors_[static_cast<size_t>(cell)]) : QColor();
}

void EmbeddingView::resetCamera() {
  vtkCamera* camera = canvas_->renderer()->GetActiveCamera();
  double b[6] = {-1, 1, -1, 1, 0, 0};
  if (points_->GetNumberOfPoints() > 0) points_->GetBounds(b);
  const double cx = (b[0] + b[1]) / 2, cy = (b[2] + b[3]) / 2;
  const double halfW = std::max((b[1] - b[0]) / 2, 1e-9), halfH = std::max((b[3] - b[2]) / 2, 1e-9);
  const double aspect = canvas_->width() / std::max(1.0, static_cast<double>(canvas_->height()));
  camera->SetFocalPoint(cx, cy, 0);
  camera->SetPosition(cx, cy, 1000);
  camera->SetViewUp(0, 1, 0);
  camera->SetClippingRange(1, 2000);
  camera->SetParallelScale(std::max(halfH, halfW / aspect) * 1.06);  // a margin for point size
  cameraFitted_ = true;
  render();
}

QPointF EmbeddingView::canvasToWorld(const QPointF& p) const {
  vtkCamera* camera = canvas_->renderer()->GetActiveCamera();
  const double* f = camera->GetFocalPoint();
  const double unitsPerPixel = 2 * camera->GetParallelScale() / std::max(1, canvas_->height());
  return {f[0] + (p.x() - canvas_->width() / 2.0) * unitsPerPixel, f[1] - (p.y() - canvas_->height() / 2.0) * unitsPerPixel};
}

void EmbeddingView::zoomAt(const QPointF& position, double factor) {
  vtkCamera* camera = canvas_->renderer()->GetActiveCamera();
  const QPointF anchor = canvasToWorld(position);
  const double* f = camera->GetFocalPoint();
  const double fx = anchor.x() + (f[0] - anchor.x()) / factor, fy = anchor.y() + (f[1] - anchor.y()) / factor;
  camera->SetFocalPoint(fx, fy, 0);
  camera->SetPosition(fx, fy, 1000);
  camera->SetParallelScale(camera->GetParallelScale() / factor);
  cameraFitted_ = false;
  render();
}

void EmbeddingView::panBy(const QPointF& pixels) {
  vtkCamera* camera = canvas_->renderer()->GetActiveCamera();
  const double unitsPerPixel = 2 * camera->GetParallelScale() / std::max(1, canvas_->height());
  const double* f = camera->GetFocalPoint();
  const double fx = f[0] - pixels.x() * unitsPerPixel, fy = f[1] + pixels.y() * unitsPerPixel;
  camera->SetFocalPoint(fx, fy, 0);
  camera->SetPosition(fx, fy, 1000);
  cameraFitted_ = false;
  render();
}

std::vector<QPointF> EmbeddingView::projectAll() const {
  const int64_t n = points_->GetNumberOfPoints();
  std::vector<QPointF> out(static_cast<size_t>(n));
  const double w = canvas_->width(), h = std::max(1, canvas_->height());
  vtkMatrix4x4* m = canvas_->renderer()->GetActiveCamera()->GetCompositeProjectionTransformMatrix(w / h, -1, 1);
  for (int64_t i = 0; i < n; ++i) {
    double p[3];
    points_->GetPoint(i, p);
    const double in[4] = {p[0], p[1], p[2], 1.0};
    double o[4];
    m->MultiplyPoint(in, o);
    const double x = o[0] / o[3], y = o[1] / o[3];
    out[static_cast<size_t>(i)] = QPointF((x + 1) / 2 * w, h - (y + 1) / 2 * h);
  }
  return out;
}

QPointF EmbeddingView::cellScreenPosition(int64_t cell) const {
  if (cell < 0 || cell >= points_->GetNumberOfPoints()) return {};
  return projectAll()[static_cast<size_t>(cell)];
}

std::vector<int64_t> EmbeddingView::cellsInPolygon(const QPolygonF& polygon) const {
  std::vector<int64_t> cells;
  if (polygon.size() < 3) return cells;
  const auto positions = projectAll();
  const QRectF box = polygon.boundingRect();
  for (size_t i = 0; i < positions.size(); ++i)
    if (box.contains(positions[i]) && isCellVisible(static_cast<int64_t>(i)) && polygon.containsPoint(positions[i], Qt::OddEvenFill))
      cells.push_back(static_cast<int64_t>(i));
  return cells;
}

int64_t EmbeddingView::cellAt(const QPointF& position, double radius) const {
  const auto positions = projectAll();
  int64_t best = -1;
  double bestD2 = radius * radius;
  for (size_t i = 0; i < positions.size(); ++i) {
    const QPointF d = positions[i] - position;
    const double d2 = d.x() * d.x() + d.y() * d.y();
    // Ties go to the later cell: it is drawn on top.
    if (d2 <= bestD2 && isCellVisible(static_cast<int64_t>(i))) bestD2 = d2, best = static_cast<int64_t>(i);
  }
  return best;
}

void EmbeddingView::setSelection(std::vector<int64_t> cells) {
  selection_ = std::move(cells);
  rebuildVisibleCells();
  statusLabel_->setText(selection_.empty() ? QString() : tr("%1 cells selected: right-click to keep them as a category or compare them (DE)").arg(selection_.size()));
  render();
  Q_EMIT selectionChanged();
}

bool EmbeddingView::isShowingLevelOfDetail() const { return lodActor_->GetVisibility() != 0; }

void EmbeddingView::startInteraction() {
  interacting_ = true;
  if (lodSample_.empty()) return;
  fullActor_->SetVisibility(false);
  lodActor_->SetVisibility(true);
}

void EmbeddingView::endInteraction() {
  interacting_ = false;
  fullActor_->SetVisibility(true);
  lodActor_->SetVisibility(false);
  render();
}

void EmbeddingView::showHover(const QPointF& position, const QPoint& global) {
  const int64_t cell = dataset_ ? cellAt(position, std::max(4.0, pointSize_ * 0.75)) : -1;
  if (cell < 0) {
    QToolTip::hideText();
    return;
  }
  QString text = QStringLiteral("<b>%1</b>").arg(QString::fromStdString(dataset_->obs.index.at(static_cast<size_t>(cell))).toHtmlEscaped());
  int shown = 0;
  for (const auto& name : dataset_->obs.columnOrder) {
    if (++shown > 10) break;
    text += QStringLiteral("<br>%1: %2").arg(QString::fromStdString(name).toHtmlEscaped(),
                                              QString::fromStdString(dataset_->obs.at(name).valueAsString(static_cast<size_t>(cell))).toHtmlEscaped());
  }
  QToolTip::showText(global, text, canvas_);
}

void EmbeddingView::showContextMenu(const QPoint& global) {
  QMenu menu(this);
  menu.addAction(tr("Reset view"), this, &EmbeddingView::resetCamera);
  auto* keep = menu.addAction(tr("Keep selection as a category…"), this, [this] { Q_EMIT saveSelectionRequested(selection_); });
  auto* de = menu.addAction(tr("Differential expression: selection vs rest"), this, [this] { Q_EMIT differentialExpressionRequested(selection_); });
  auto* clear = menu.addAction(tr("Clear selection"), this, [this] { setSelection({}); });
  keep->setEnabled(!selection_.empty());
  de->setEnabled(!selection_.empty());
  clear->setEnabled(!selection_.empty());
  menu.exec(global);
}

bool EmbeddingView::eventFilter(QObject* watched, QEvent* event) {
  if (watched != canvas_) return QWidget::eventFilter(watched, event);
  switch (event->type()) {
    case QEvent::MouseButtonPress: {
      auto* e = static_cast<QMouseEvent*>(event);
      if (e->button() != Qt::LeftButton) break;
      lastMouse_ = e->position();
      lassoing_ = lassoButton_->isChecked() || (e->modifiers() & Qt::ShiftModifier);
      if (lassoing_) lasso_->start(e->position());
      else startInteraction();
      return true;
    }
    case QEvent::MouseMove: {
      auto* e = static_cast<QMouseEvent*>(event);
      if (lassoing_) lasso_->add(e->position());
      else if (e->buttons() & Qt::LeftButton) panBy(e->position() - lastMouse_);
      else showHover(e->position(), e->globalPosition().toPoint());
      lastMouse_ = e->position();
      return true;
    }
    case QEvent::MouseButtonRelease: {
      auto* e = static_cast<QMouseEvent*>(event);
      if (e->button() != Qt::LeftButton) break;
      if (lassoing_) {
        lassoing_ = false;
        setSelection(cellsInPolygon(lasso_->finish()));
      } else {
        endInteraction();
      }
      return true;
    }
    case QEvent::MouseButtonDblClick:
      resetCamera();
      return true;
    case QEvent::Wheel: {
      auto* e = static_cast<QWheelEvent*>(event);
      startInteraction();
      zoomAt(e->position(), std::pow(1.0015, e->angleDelta().y()));
      settleTimer_->start();
      return true;
    }
    case QEvent::ContextMenu:
      showContextMenu(static_cast<QContextMenuEvent*>(event)->globalPos());
      return true;
    case QEvent::Resize:
      // Until the user moves the view, it keeps fitting every cell in.
      if (cameraFitted_) resetCamera();
      else render();
      break;
    default:
      break;
  }
  return QWidget::eventFilter(watched, event);
}

void EmbeddingView::render() {
  full_->Modified();
  canvas_->update();
}

}  // namespace cw::ui
