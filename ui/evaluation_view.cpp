#include "cellwright/ui/evaluation_view.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPainter>
#include <QTabWidget>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "cellwright/core/errors.h"
#include "cellwright/ui/palette.h"

namespace cw::ui {

namespace {

QVector<QVector<double>> matrixFrom(const QJsonArray& rows) {
  QVector<QVector<double>> m;
  for (const auto& row : rows) {
    QVector<double> r;
    for (const auto& v : row.toArray()) r << v.toDouble();
    m << r;
  }
  return m;
}

}  // namespace

RunMetrics RunMetrics::load(const QString& runOrFile) {
  const bool isFile = QFileInfo(runOrFile).suffix().compare(QStringLiteral("json"), Qt::CaseInsensitive) == 0;
  const QString path = isFile ? runOrFile : QDir(runOrFile).filePath(QStringLiteral("metrics.json"));
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) throw cw::Error("cannot read " + path.toStdString() + ": no such file or not readable");
  QJsonParseError parseError;
  const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
  if (!doc.isObject()) throw cw::Error(path.toStdString() + " is not valid JSON: " + parseError.errorString().toStdString());
  RunMetrics m;
  m.json = doc.object();
  const QJsonObject confusion = m.json.value(QStringLiteral("confusion")).toObject();
  if (confusion.isEmpty()) throw cw::Error(path.toStdString() + " holds no confusion matrix (is it a classification run?)");
  for (const auto& l : confusion.value(QStringLiteral("labels")).toArray()) m.labels << l.toString();
  m.counts = matrixFrom(confusion.value(QStringLiteral("matrix")).toArray());
  const auto n = m.labels.size();
  if (m.counts.size() != n || std::any_of(m.counts.begin(), m.counts.end(), [n](const auto& r) { return r.size() != n; }))
    throw cw::Error(path.toStdString() + ": the confusion matrix does not match its labels");
  for (const auto& row : m.counts) {
    double total = 0;
    for (double v : row) total += v;
    QVector<double> r;
    for (double v : row) r << (total > 0 ? v / total : 0.0);
    m.normalized << r;
  }
  QFile csv(QFileInfo(path).dir().filePath(QStringLiteral("predictions.csv")));
  if (csv.open(QIODevice::ReadOnly | QIODevice::Text)) {
    csv.readLine();  // header: cell,truth,prediction,confidence
    while (!csv.atEnd()) {
      const QStringList f = QString::fromUtf8(csv.readLine()).trimmed().split(QLatin1Char(','));
      if (f.size() >= 3) m.predictions.push_back({f[0], f[1], f[2]});
    }
  }
  return m;
}

QStringList RunMetrics::cellsWith(const QString& truth, const QString& predicted) const {
  QStringList cells;
  for (const auto& p : predictions)
    if (p.truth == truth && p.predicted == predicted) cells << p.cell;
  return cells;
}

QColor blues(double t) {
  t = std::clamp(std::isnan(t) ? 0.0 : t, 0.0, 1.0);
  const QColor a(0xf7, 0xfb, 0xff), b(0x08, 0x30, 0x6b);
  auto mix = [t](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * t)); };
  return QColor(mix(a.red(), b.red()), mix(a.green(), b.green()), mix(a.blue(), b.blue()));
}

ConfusionHeatmap::ConfusionHeatmap(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("confusionHeatmap"));
  setMinimumSize(300, 260);
  setAutoFillBackground(true);
  QPalette p = palette();
  p.setColor(QPalette::Window, Qt::white);
  p.setColor(QPalette::WindowText, Qt::black);
  setPalette(p);
}

void ConfusionHeatmap::setMetrics(const RunMetrics& metrics) {
  metrics_ = metrics;
  update();
}

void ConfusionHeatmap::setNormalized(bool normalized) {
  normalized_ = normalized;
  update();
}

double ConfusionHeatmap::value(int row, int column) const {
  return (normalized_ ? metrics_.normalized : metrics_.counts).value(row).value(column);
}

QRect ConfusionHeatmap::gridRect() const {
  const QFontMetrics fm = fontMetrics();
  int labelWidth = fm.horizontalAdvance(QStringLiteral("Truth"));
  for (const auto& l : metrics_.labels) labelWidth = std::max(labelWidth, fm.horizontalAdvance(l));
  const int left = std::min(labelWidth + fm.height() + 12, width() / 3);
  const int bottom = std::min(labelWidth + fm.height() + 12, height() / 3);  // column labels are rotated
  const int top = fm.height() + 8;
  const int side = std::max(1, std::min(width() - left - 10, height() - top - bottom));
  const int centred = left + std::max(0, (width() - left - 10 - side) / 2);  // labels stay beside it
  return {centred, top, side, side};
}

QRect ConfusionHeatmap::cellRect(int row, int column) const {
  const QRect g = gridRect();
  const auto n = std::max<qsizetype>(1, metrics_.labels.size());
  const int x0 = g.left() + static_cast<int>(g.width() * column / n), x1 = g.left() + static_cast<int>(g.width() * (column + 1) / n);
  const int y0 = g.top() + static_cast<int>(g.height() * row / n), y1 = g.top() + static_cast<int>(g.height() * (row + 1) / n);
  return {x0, y0, x1 - x0, y1 - y0};
}

QColor ConfusionHeatmap::cellColor(int row, int column) const {
  double maximum = 0;
  for (const auto& r : normalized_ ? metrics_.normalized : metrics_.counts)
    for (double v : r) maximum = std::max(maximum, v);
  return blues(normalized_ ? value(row, column) : (maximum > 0 ? value(row, column) / maximum : 0));
}

void ConfusionHeatmap::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), Qt::white);
  const int n = static_cast<int>(metrics_.labels.size());
  if (n == 0) return;
  const QRect g = gridRect();
  QFont font = p.font();
  // Values stay readable: shrink the font with the cells, never below 6 pt.
  const int cell = g.width() / n;
  if (cell < 40) font.setPointSizeF(std::max(6.0, font.pointSizeF() * cell / 40.0));
  p.setFont(font);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const QRect rect = cellRect(r, c);
      const QColor color = cellColor(r, c);
      p.fillRect(rect, color);
      p.setPen(color.lightnessF() < 0.5 ? Qt::white : Qt::black);
      const double v = value(r, c);
      p.drawText(rect, Qt::AlignCenter, normalized_ ? QString::number(v, 'f', 2) : QString::number(v, 'f', 0));
    }
  p.setPen(Qt::black);
  const QFontMetrics fm(font);
  for (int i = 0; i < n; ++i) {
    const QRect row = cellRect(i, 0);
    p.drawText(QRect(0, row.top(), g.left() - 4, row.height()), Qt::AlignRight | Qt::AlignVCenter, fm.elidedText(metrics_.labels[i], Qt::ElideMiddle, std::min(g.left() - 6, width() / 3)));
    const QRect col = cellRect(n - 1, i);
    p.save();
    p.translate(col.center().x() + fm.ascent() / 2, g.bottom() + 4);
    p.rotate(-90);
    p.drawText(QRect(-(height() - g.bottom()), -fm.height(), height() - g.bottom() - 8, fm.height()), Qt::AlignRight | Qt::AlignVCenter,
               fm.elidedText(metrics_.labels[i], Qt::ElideMiddle, height() - g.bottom() - 10));
    p.restore();
  }
  p.drawText(QRect(g.left(), 0, g.width(), g.top()), Qt::AlignCenter, tr("Predicted →   (rows: truth)"));
}

void ConfusionHeatmap::mousePressEvent(QMouseEvent* event) {
  const int n = static_cast<int>(metrics_.labels.size());
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c)
      if (cellRect(r, c).contains(event->position().toPoint())) {
        Q_EMIT cellClicked(metrics_.labels[r], metrics_.labels[c]);
        return;
      }
}

EvaluationView::EvaluationView(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("evaluationView"));
  tabs_ = new QTabWidget(this);
  auto* confusionPage = new QWidget(tabs_);
  confusionPage->setObjectName(QStringLiteral("confusion"));
  heatmap_ = new ConfusionHeatmap(confusionPage);
  mode_ = new QComboBox(confusionPage);
  mode_->addItems({tr("Row-normalised"), tr("Counts")});
  connect(mode_, &QComboBox::currentIndexChanged, this, [this](int i) { heatmap_->setNormalized(i == 0); });
  connect(heatmap_, &ConfusionHeatmap::cellClicked, this, &EvaluationView::confusionCellClicked);
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Show"), confusionPage));
  top->addWidget(mode_);
  top->addStretch(1);
  auto* cl = new QVBoxLayout(confusionPage);
  cl->addLayout(top);
  cl->addWidget(heatmap_, 1);
  roc_ = new QChartView(tabs_);
  roc_->setObjectName(QStringLiteral("roc"));
  roc_->setRenderHint(QPainter::Antialiasing);
  table_ = new QTableWidget(tabs_);
  table_->setObjectName(QStringLiteral("metrics"));
  tabs_->addTab(confusionPage, tr("Confusion matrix"));
  tabs_->addTab(roc_, tr("ROC curves"));
  tabs_->addTab(table_, tr("Metrics"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addWidget(tabs_);
}

bool EvaluationView::loadRun(const QString& runOrFile, QString* error) {
  try {
    metrics_ = RunMetrics::load(runOrFile);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
  heatmap_->setMetrics(metrics_);
  fillRoc();
  fillTable();
  return true;
}

QWidget* EvaluationView::page(const QString& name) const {
  for (int i = 0; i < tabs_->count(); ++i)
    if (tabs_->widget(i)->objectName() == name) return tabs_->widget(i);
  return nullptr;
}

void EvaluationView::showPage(const QString& name) {
  if (QWidget* w = page(name)) tabs_->setCurrentWidget(w);
}

void EvaluationView::fillRoc() {
  auto* chart = new QChart;
  chart->setTitle(tr("One-vs-rest ROC"));
  const QJsonObject roc = metrics_.json.value(QStringLiteral("roc")).toObject();
  auto* x = new QValueAxis;
  auto* y = new QValueAxis;
  x->setRange(0, 1);
  y->setRange(0, 1);
  x->setTitleText(tr("False positive rate"));
  y->setTitleText(tr("True positive rate"));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  const QVector<QColor> colors = categoricalPalette(static_cast<int>(metrics_.labels.size()));
  int index = 0;
  for (const QString& label : metrics_.labels) {
    const QJsonObject curve = roc.value(label).toObject();
    const int color = index++;
    if (curve.isEmpty()) continue;
    auto* series = new QLineSeries;
    const QJsonArray fpr = curve.value(QStringLiteral("fpr")).toArray(), tpr = curve.value(QStringLiteral("tpr")).toArray();
    for (qsizetype i = 0; i < std::min(fpr.size(), tpr.size()); ++i) series->append(fpr[i].toDouble(), tpr[i].toDouble());
    const QJsonValue auc = curve.value(QStringLiteral("auc"));
    series->setName(auc.isDouble() ? QStringLiteral("%1 (AUC %2)").arg(label).arg(auc.toDouble(), 0, 'f', 3)
                                   : QStringLiteral("%1 (AUC n/a)").arg(label));
    series->setPen(QPen(colors[color], 2));
    chart->addSeries(series);
    series->attachAxis(x);
    series->attachAxis(y);
  }
  auto* chance = new QLineSeries;
  chance->append(0, 0);
  chance->append(1, 1);
  chance->setPen(QPen(Qt::gray, 1, Qt::DashLine));
  chart->addSeries(chance);
  chance->attachAxis(x);
  chance->attachAxis(y);
  chart->legend()->markers(chance).value(0)->setVisible(false);
  chart->legend()->setAlignment(Qt::AlignRight);
  if (roc.isEmpty()) chart->setTitle(tr("No ROC curves: the run has no class probabilities"));
  QChart* old = roc_->chart();
  roc_->setChart(chart);
  delete old;
}

void EvaluationView::fillTable() {
  const QJsonObject perClass = metrics_.json.value(QStringLiteral("per_class")).toObject();
  const QStringList columns{tr("Label"), tr("Precision"), tr("Recall"), tr("F1"), tr("Support"), tr("AUC")};
  const QStringList keys{QString(), QStringLiteral("precision"), QStringLiteral("recall"), QStringLiteral("f1"), QStringLiteral("support"), QStringLiteral("auc")};
  table_->clear();
  table_->setColumnCount(static_cast<int>(columns.size()));
  table_->setHorizontalHeaderLabels(columns);
  table_->setRowCount(static_cast<int>(metrics_.labels.size()) + 4);
  int row = 0;
  auto text = [](const QJsonValue& v) { return v.isDouble() ? QString::number(v.toDouble(), 'g', 4) : QStringLiteral("—"); };
  for (const QString& label : metrics_.labels) {
    const QJsonObject m = perClass.value(label).toObject();
    table_->setItem(row, 0, new QTableWidgetItem(label));
    for (int c = 1; c < keys.size(); ++c) table_->setItem(row, c, new QTableWidgetItem(text(m.value(keys[c]))));
    ++row;
  }
  for (const char* overall : {"accuracy", "macro_f1", "weighted_f1", "macro_auc"}) {
    table_->setItem(row, 0, new QTableWidgetItem(QString::fromLatin1(overall)));
    table_->setItem(row, 1, new QTableWidgetItem(text(metrics_.json.value(QString::fromLatin1(overall)))));
    ++row;
  }
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
}

}  // namespace cw::ui
