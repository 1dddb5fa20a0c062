#include "cellwright/ui/paga_view.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "cellwright/ui/document.h"
#include "cellwright/ui/palette.h"

namespace cw::ui {

namespace {

QVector<QVector<double>> denseOf(const cw::CsrMatrix& m) {
  QVector<QVector<double>> d(static_cast<int>(m.rows), QVector<double>(static_cast<int>(m.cols), 0.0));
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t e = m.indptr[static_cast<size_t>(r)]; e < m.indptr[static_cast<size_t>(r) + 1]; ++e)
      d[static_cast<int>(r)][m.indices[static_cast<size_t>(e)]] = m.data[static_cast<size_t>(e)];
  return d;
}

const cw::UnsNode* child(const cw::UnsDict& dict, const std::string& key) {
  auto it = dict.find(key);
  return it == dict.end() ? nullptr : &it->second;
}

}  // namespace

PagaCanvas::PagaCanvas(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("pagaCanvas"));
  setMinimumSize(300, 250);
}

void PagaCanvas::setGraph(QStringList groups, QVector<qint64> sizes, QVector<QColor> colors, QVector<QPointF> positions,
                          QVector<QVector<double>> connectivities, QVector<QVector<double>> tree) {
  groups_ = std::move(groups);
  sizes_ = std::move(sizes);
  colors_ = std::move(colors);
  positions_ = std::move(positions);
  connectivities_ = std::move(connectivities);
  tree_ = std::move(tree);
  update();
}

void PagaCanvas::setThreshold(double threshold) {
  threshold_ = threshold;
  update();
}

void PagaCanvas::setShowTree(bool tree) {
  showTree_ = tree;
  update();
}

double PagaCanvas::weight(int a, int b) const {
  const auto& m = showTree_ ? tree_ : connectivities_;
  // The tree is stored in the upper triangle only.
  return std::max(m.value(a).value(b), m.value(b).value(a));
}

bool PagaCanvas::isEdgeShown(int a, int b) const { return a != b && weight(a, b) >= threshold_ && weight(a, b) > 0; }

QPointF PagaCanvas::nodeCenter(int node) const {
  if (positions_.isEmpty()) return {};
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const QPointF& p : positions_) x0 = std::min(x0, p.x()), x1 = std::max(x1, p.x()), y0 = std::min(y0, p.y()), y1 = std::max(y1, p.y());
  const double margin = 60;
  const double sx = (width() - 2 * margin) / std::max(1e-9, x1 - x0), sy = (height() - 2 * margin) / std::max(1e-9, y1 - y0);
  const double s = std::min(sx, sy);
  const QPointF p = positions_.value(node);
  const double cx = (width() - s * (x1 - x0)) / 2, cy = (height() - s * (y1 - y0)) / 2;
  return {cx + (p.x() - x0) * s, height() - (cy + (p.y() - y0) * s)};  // layout y points up
}

double PagaCanvas::nodeRadius(int node) const {
  qint64 largest = 1;
  for (qint64 s : sizes_) largest = std::max(largest, s);
  // Area proportional to the number of cells.
  return 6 + 26 * std::sqrt(static_cast<double>(sizes_.value(node)) / static_cast<double>(largest));
}

void PagaCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::white);
  p.setRenderHint(QPainter::Antialiasing);
  const int n = nodeCount();
  for (int a = 0; a < n; ++a)
    for (int b = a + 1; b < n; ++b)
      if (isEdgeShown(a, b)) {
        p.setPen(QPen(QColor(60, 60, 60), std::max(0.5, 10 * weight(a, b)), Qt::SolidLine, Qt::RoundCap));
        p.drawLine(nodeCenter(a), nodeCenter(b));
      }
  for (int i = 0; i < n; ++i) {
    const double r = nodeRadius(i);
    p.setPen(QPen(Qt::black, 1));
    p.setBrush(colors_.value(i));
    p.drawEllipse(nodeCenter(i), r, r);
    p.setPen(Qt::black);
    p.drawText(QRectF(nodeCenter(i).x() - 80, nodeCenter(i).y() + r + 2, 160, fontMetrics().height()), Qt::AlignHCenter | Qt::AlignTop, groups_[i]);
  }
}

void PagaCanvas::mousePressEvent(QMouseEvent* event) {
  for (int i = nodeCount() - 1; i >= 0; --i)
    if (QLineF(event->position(), nodeCenter(i)).length() <= nodeRadius(i)) {
      Q_EMIT nodeClicked(i);
      return;
    }
}

PagaView::PagaView(Document* document, QWidget* parent) : QWidget(parent), document_(document) {
  setObjectName(QStringLiteral("pagaView"));
  canvas_ = new PagaCanvas(this);
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setObjectName(QStringLiteral("pagaThreshold"));
  slider_->setRange(0, 100);  // hundredths of connectivity
  slider_->setValue(1);       // 0.01, scanpy's default threshold
  thresholdLabel_ = new QLabel(this);
  tree_ = new QCheckBox(tr("Spanning tree only"), this);
  message_ = new QLabel(this);
  auto updateThreshold = [this](int value) {
    canvas_->setThreshold(value / 100.0);
    thresholdLabel_->setText(tr("Edges ≥ %1").arg(value / 100.0, 0, 'f', 2));
  };
  updateThreshold(slider_->value());
  connect(slider_, &QSlider::valueChanged, this, updateThreshold);
  connect(tree_, &QCheckBox::toggled, canvas_, &PagaCanvas::setShowTree);
  connect(canvas_, &PagaCanvas::nodeClicked, this, [this](int node) {
    auto dataset = document_->dataset();
    if (!dataset || !dataset->obs.has(groupsKey_.toStdString())) return;
    const auto& codes = dataset->obs.at(groupsKey_.toStdString()).codes;
    std::vector<int64_t> cells;
    for (size_t i = 0; i < codes.size(); ++i)
      if (codes[i] == node) cells.push_back(static_cast<int64_t>(i));
    Q_EMIT groupCellsRequested(cells);
  });
  auto* bar = new QHBoxLayout;
  bar->addWidget(thresholdLabel_);
  bar->addWidget(slider_, 1);
  bar->addWidget(tree_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(message_);
  layout->addWidget(canvas_, 1);
  connect(document_, &Document::datasetChanged, this, &PagaView::onDatasetChanged);
  onDatasetChanged();
}

void PagaView::onDatasetChanged() {
  auto dataset = document_->dataset();
  const cw::UnsNode* paga = dataset ? child(dataset->uns, "paga") : nullptr;
  const cw::UnsNode* groups = paga && paga->isDict() ? child(paga->dict(), "groups") : nullptr;
  const cw::UnsNode* conn = paga && paga->isDict() ? child(paga->dict(), "connectivities") : nullptr;
  if (!groups || !conn || !std::holds_alternative<std::string>(groups->value) || !std::holds_alternative<cw::CsrMatrix>(conn->value)) {
    groupsKey_.clear();
    canvas_->setGraph({}, {}, {}, {}, {}, {});
    message_->setText(dataset ? tr("No PAGA graph yet: run Analysis ▸ PAGA after clustering") : QString());
    message_->show();
    return;
  }
  groupsKey_ = QString::fromStdString(std::get<std::string>(groups->value));
  const cw::Column* column = dataset->obs.has(groupsKey_.toStdString()) ? &dataset->obs.at(groupsKey_.toStdString()) : nullptr;
  const auto connectivities = denseOf(std::get<cw::CsrMatrix>(conn->value));
  const int k = static_cast<int>(connectivities.size());
  QStringList names;
  QVector<qint64> sizes(k, 0);
  for (int i = 0; i < k; ++i)
    names << (column && i < static_cast<int>(column->categories.size()) ? QString::fromStdString(column->categories[static_cast<size_t>(i)]) : QString::number(i));
  if (column)
    for (int32_t c : column->codes)
      if (c >= 0 && c < k) ++sizes[c];
  QVector<QVector<double>> tree;
  if (const cw::UnsNode* t = child(paga->dict(), "connectivities_tree"); t && std::holds_alternative<cw::CsrMatrix>(t->value))
    tree = denseOf(std::get<cw::CsrMatrix>(t->value));
  QVector<QPointF> positions;
  if (const cw::UnsNode* pos = child(paga->dict(), "pos"); pos && std::holds_alternative<cw::DenseMatrix>(pos->value)) {
    const auto& m = std::get<cw::DenseMatrix>(pos->value);
    for (int64_t i = 0; i < m.rows && m.cols >= 2; ++i) positions << QPointF(m.at(i, 0), m.at(i, 1));
  }
  if (positions.size() != k) {  // no layout stored: a circle
    positions.clear();
    for (int i = 0; i < k; ++i) positions << QPointF(std::cos(2 * M_PI * i / k), std::sin(2 * M_PI * i / k));
  }
  canvas_->setGraph(names, sizes, categoricalPalette(k), positions, connectivities, tree);
  message_->hide();
}

}  // namespace cw::ui
