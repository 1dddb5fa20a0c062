#include "cellwright/ui/training_panel.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStackedWidget>
#include <QValueAxis>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

#include "cellwright/ui/document.h"
#include "cellwright/ui/job_queue.h"

namespace cw::ui {

namespace {

QChart* makeChart(const QString& title, QValueAxis*& x, QValueAxis*& y, const QString& yTitle) {
  auto* chart = new QChart;
  x = new QValueAxis;
  y = new QValueAxis;
  // The dock is narrow: small fonts and margins, the y unit in the title rather than a
  // rotated axis title, so tick labels are not elided to "...".
  QFont small = chart->font();
  small.setPointSizeF(small.pointSizeF() * 0.85);
  chart->setTitle(QStringLiteral("%1 (%2)").arg(title, yTitle));
  chart->setMargins(QMargins(2, 2, 2, 2));
  x->setTitleText(QObject::tr("Epoch"));
  x->setTitleFont(small);
  x->setLabelFormat(QStringLiteral("%.0f"));
  y->setLabelFormat(QStringLiteral("%.2g"));
  for (QValueAxis* axis : {x, y}) {
    axis->setLabelsFont(small);
    axis->setTickCount(5);
  }
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->legend()->setFont(small);
  return chart;
}

QLineSeries* addSeries(QChart* chart, QValueAxis* x, QValueAxis* y, const QString& name, const QColor& color, bool dashed = false) {
  auto* s = new QLineSeries;
  s->setName(name);
  s->setPen(QPen(color, 2, dashed ? Qt::DashLine : Qt::SolidLine));
  chart->addSeries(s);
  s->attachAxis(x);
  s->attachAxis(y);
  return s;
}

QString duration(double seconds) {
  if (!(seconds >= 0)) return QStringLiteral("—");
  const auto s = static_cast<qint64>(std::lround(seconds));
  return s >= 3600 ? QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60)
                   : QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
}

}  // namespace

TrainingPanel::TrainingPanel(Document* document, JobQueue* jobs, QWidget* parent)
    : QWidget(parent), document_(document), jobs_(jobs) {
  setObjectName(QStringLiteral("trainingPanel"));
  model_ = new QComboBox(this);
  model_->addItems({QStringLiteral("logreg"), QStringLiteral("mlp"), QStringLiteral("screformer"), QStringLiteral("bioformer"), QStringLiteral("cellpatch")});
  init_ = new QLineEdit(this);
  init_->setObjectName(QStringLiteral("initRun"));
  init_->setPlaceholderText(tr("none: train from scratch"));
  auto* browseInit = new QPushButton(tr("…"), this);
  connect(browseInit, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Pre-trained run"));
    if (!dir.isEmpty()) init_->setText(dir);
  });
  label_ = new QComboBox(this);
  split_ = new QComboBox(this);
  split_->addItems({tr("Random fractions"), tr("k-fold cross-validation"), tr("Hold out a batch")});
  trainFraction_ = new QDoubleSpinBox(this);
  valFraction_ = new QDoubleSpinBox(this);
  testFraction_ = new QDoubleSpinBox(this);
  for (auto [box, value] : {std::pair{trainFraction_, 0.6}, {valFraction_, 0.2}, {testFraction_, 0.2}}) {
    box->setRange(0, 1);
    box->setSingleStep(0.05);
    box->setValue(value);
  }
  folds_ = new QSpinBox(this);
  folds_->setRange(2, 20);
  folds_->setValue(5);
  batchKey_ = new QComboBox(this);
  testBatch_ = new QComboBox(this);
  splitOptions_ = new QStackedWidget(this);
  auto* fractions = new QWidget(splitOptions_);
  auto* fl = new QHBoxLayout(fractions);
  fl->setContentsMargins(0, 0, 0, 0);
  for (auto [text, box] : {std::pair{tr("train"), trainFraction_}, {tr("val"), valFraction_}, {tr("test"), testFraction_}}) {
    fl->addWidget(new QLabel(text, fractions));
    fl->addWidget(box);
  }
  auto* kfold = new QWidget(splitOptions_);
  auto* kl = new QHBoxLayout(kfold);
  kl->setContentsMargins(0, 0, 0, 0);
  kl->addWidget(new QLabel(tr("folds"), kfold));
  kl->addWidget(folds_);
  kl->addStretch(1);
  auto* batch = new QWidget(splitOptions_);
  auto* bl = new QHBoxLayout(batch);
  bl->setContentsMargins(0, 0, 0, 0);
  bl->addWidget(batchKey_);
  bl->addWidget(new QLabel(tr("test on"), batch));
  bl->addWidget(testBatch_);
  splitOptions_->addWidget(fractions);
  splitOptions_->addWidget(kfold);
  splitOptions_->addWidget(batch);
  connect(split_, &QComboBox::currentIndexChanged, splitOptions_, &QStackedWidget::setCurrentIndex);
  connect(batchKey_, &QComboBox::currentTextChanged, this, [this](const QString& key) {
    testBatch_->clear();
    auto dataset = document_->dataset();
    if (!dataset || !dataset->obs.has(key.toStdString())) return;
    std::set<std::string> values;
    const cw::Column& c = dataset->obs.at(key.toStdString());
    for (size_t i = 0; i < c.size(); ++i) values.insert(c.valueAsString(i));
    for (const auto& v : values) testBatch_->addItem(QString::fromStdString(v));
  });
  epochs_ = new QSpinBox(this);
  epochs_->setRange(1, 10000);
  epochs_->setValue(10);
  batchSize_ = new QSpinBox(this);
  batchSize_->setRange(1, 65536);
  batchSize_->setValue(32);
  lr_ = new QDoubleSpinBox(this);
  lr_->setDecimals(6);
  lr_->setRange(1e-6, 1);
  lr_->setSingleStep(1e-4);
  lr_->setValue(1e-3);
  device_ = new QComboBox(this);
  device_->setEditable(true);
  device_->addItems({QStringLiteral("auto"), QStringLiteral("cpu"), QStringLiteral("cuda")});
  runDir_ = new QLineEdit(QDir::home().filePath(QStringLiteral("cellwright-runs/run1")), this);
  startButton_ = new QPushButton(tr("Start"), this);
  cancelButton_ = new QPushButton(tr("Cancel"), this);
  cancelButton_->setEnabled(false);
  connect(startButton_, &QPushButton::clicked, this, &TrainingPanel::start);
  connect(cancelButton_, &QPushButton::clicked, this, &TrainingPanel::cancel);

  auto* initRow = new QHBoxLayout;
  initRow->addWidget(init_, 1);
  initRow->addWidget(browseInit);
  auto* form = new QFormLayout;
  form->addRow(tr("Model"), model_);
  form->addRow(tr("Pre-trained run"), initRow);
  form->addRow(tr("Label column"), label_);
  form->addRow(tr("Split"), split_);
  form->addRow(QString(), splitOptions_);
  form->addRow(tr("Epochs"), epochs_);
  form->addRow(tr("Batch size"), batchSize_);
  form->addRow(tr("Learning rate"), lr_);
  form->addRow(tr("Device"), device_);
  form->addRow(tr("Run folder"), runDir_);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(startButton_);
  buttons->addWidget(cancelButton_);
  epochLabel_ = new QLabel(this);
  throughputLabel_ = new QLabel(this);
  etaLabel_ = new QLabel(this);
  memoryLabel_ = new QLabel(this);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  auto* stats = new QHBoxLayout;
  for (QLabel* l : {epochLabel_, throughputLabel_, etaLabel_, memoryLabel_}) stats->addWidget(l);

  lossChart_ = makeChart(tr("Loss"), lossX_, lossY_, tr("cross entropy"));
  accuracyChart_ = makeChart(tr("Accuracy"), accX_, accY_, tr("fraction correct"));
  runningLoss_ = addSeries(lossChart_, lossX_, lossY_, tr("train (running)"), QColor(174, 199, 232));
  trainLoss_ = addSeries(lossChart_, lossX_, lossY_, tr("train"), QColor(31, 119, 180));
  valLoss_ = addSeries(lossChart_, lossX_, lossY_, tr("validation"), QColor(255, 127, 14));
  trainAcc_ = addSeries(accuracyChart_, accX_, accY_, tr("train"), QColor(31, 119, 180));
  valAcc_ = addSeries(accuracyChart_, accX_, accY_, tr("validation"), QColor(255, 127, 14));
  accY_->setRange(0, 1);
  auto* lossView = new QChartView(lossChart_, this);
  auto* accView = new QChartView(accuracyChart_, this);
  for (QChartView* v : {lossView, accView}) {
    v->setRenderHint(QPainter::Antialiasing);
    v->setMinimumHeight(180);
  }
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(buttons);
  layout->addLayout(stats);
  layout->addWidget(message_);
  layout->addWidget(lossView, 1);
  layout->addWidget(accView, 1);

  connect(jobs_, &JobQueue::jobProgress, this, [this](JobId id, double f, const QString& stage, const QVariantMap& values) {
    if (id == running_) showProgress(f, stage, values);
  });
  auto ended = [this](JobId id, const QString& why) {
    if (id != running_) return;
    running_ = 0;
    startButton_->setEnabled(true);
    cancelButton_->setEnabled(false);
    if (!why.isEmpty()) message_->setText(why);
  };
  connect(jobs_, &JobQueue::jobFailed, this, ended);
  connect(jobs_, &JobQueue::jobCanceled, this, [ended](JobId id) { ended(id, tr("Training canceled.")); });
  connect(jobs_, &JobQueue::jobFinished, this, [ended](JobId id) { ended(id, QString()); });
  connect(document_, &Document::datasetChanged, this, &TrainingPanel::onDatasetChanged);
  restoreSettings();
  onDatasetChanged();
}

void TrainingPanel::onDatasetChanged() {
  auto dataset = document_->dataset();
  const QString label = label_->currentText(), batchKey = batchKey_->currentText();
  label_->clear();
  batchKey_->clear();
  if (!dataset) return;
  for (const auto& name : dataset->obs.columnOrder) {
    const auto kind = dataset->obs.at(name).kind;
    if (kind == cw::Column::Kind::Categorical || kind == cw::Column::Kind::String) {
      label_->addItem(QString::fromStdString(name));
      batchKey_->addItem(QString::fromStdString(name));
    }
  }
  if (label_->findText(label) >= 0) label_->setCurrentText(label);
  else if (label_->findText(QStringLiteral("cell_type")) >= 0) label_->setCurrentText(QStringLiteral("cell_type"));
  for (const char* key : {"batch", "study"})
    if (batchKey_->findText(QString::fromLatin1(key)) >= 0) batchKey_->setCurrentText(QString::fromLatin1(key));
  if (batchKey_->findText(batchKey) >= 0) batchKey_->setCurrentText(batchKey);
}

TrainingRequest TrainingPanel::request() const {
  TrainingRequest r;
  r.model = model_->currentText();
  r.init = init_->text().trimmed();
  r.label = label_->currentText();
  r.split = static_cast<TrainingRequest::Split>(split_->currentIndex());
  r.trainFraction = trainFraction_->value();
  r.validationFraction = valFraction_->value();
  r.testFraction = testFraction_->value();
  r.folds = folds_->value();
  r.batchKey = batchKey_->currentText();
  r.testBatch = testBatch_->currentText();
  r.epochs = epochs_->value();
  r.batchSize = batchSize_->value();
  r.learningRate = lr_->value();
  r.device = device_->currentText().trimmed();
  r.runDir = runDir_->text().trimmed();
  return r;
}

void TrainingPanel::setRequest(const TrainingRequest& r) {
  model_->setCurrentText(r.model);
  init_->setText(r.init);
  if (label_->findText(r.label) >= 0) label_->setCurrentText(r.label);
  split_->setCurrentIndex(static_cast<int>(r.split));
  trainFraction_->setValue(r.trainFraction);
  valFraction_->setValue(r.validationFraction);
  testFraction_->setValue(r.testFraction);
  folds_->setValue(r.folds);
  if (batchKey_->findText(r.batchKey) >= 0) batchKey_->setCurrentText(r.batchKey);
  if (testBatch_->findText(r.testBatch) >= 0) testBatch_->setCurrentText(r.testBatch);
  epochs_->setValue(r.epochs);
  batchSize_->setValue(r.batchSize);
  lr_->setValue(r.learningRate);
  device_->setCurrentText(r.device);
  runDir_->setText(r.runDir);
}

bool TrainingPanel::start() {
  const TrainingRequest r = request();
  QString problem;
  if (document_->isEmpty()) problem = tr("Open a dataset first.");
  else if (r.label.isEmpty()) problem = tr("Choose the column that holds the labels.");
  else if (r.runDir.isEmpty()) problem = tr("Choose a folder for the run.");
  else if (r.split == TrainingRequest::Split::Fractions && std::abs(r.trainFraction + r.validationFraction + r.testFraction - 1) > 1e-6)
    problem = tr("The train, validation and test fractions must add up to 1.");
  else if (r.split == TrainingRequest::Split::HoldOutBatch && r.testBatch.isEmpty())
    problem = tr("Choose the batch to hold out for testing.");
  if (!problem.isEmpty()) {
    message_->setText(problem);
    return false;
  }
  if (isVisible() && QDir(r.runDir).exists() &&
      QMessageBox::question(this, tr("Replace run?"), tr("%1 exists. Replace it with the new run?").arg(r.runDir)) != QMessageBox::Yes)
    return false;
  saveSettings();
  resetCurves();
  totalEpochs_ = r.epochs;
  message_->setText(tr("Training %1 on '%2'…").arg(r.model, r.label));
  running_ = jobs_->enqueue(tr("Fine-tune %1").arg(r.model), trainingJob(document_->dataset(), r), [this](std::any& result) {
    const auto outcome = std::any_cast<TrainingOutcome>(result);
    document_->setDataset(outcome.annotated, document_->path(), true);
    etaLabel_->clear();  // nothing left to wait for
    message_->setText(tr("Done: test accuracy %1. Predictions are in the annotations cw_pred and cw_confidence.").arg(outcome.accuracy, 0, 'f', 3));
    Q_EMIT trainingFinished(outcome);
  });
  startButton_->setEnabled(false);
  cancelButton_->setEnabled(true);
  return true;
}

void TrainingPanel::cancel() {
  if (running_) jobs_->cancel(running_);
}

void TrainingPanel::resetCurves() {
  for (QLineSeries* s : {runningLoss_, trainLoss_, valLoss_, trainAcc_, valAcc_}) s->clear();
  for (QLabel* l : {epochLabel_, throughputLabel_, etaLabel_, memoryLabel_}) l->clear();
  rescale();
}

void TrainingPanel::showProgress(double fraction, const QString& stage, const QVariantMap& values) {
  if (values.contains(QStringLiteral("loss")) && fraction >= 0) {
    runningLoss_->append(fraction * totalEpochs_, values.value(QStringLiteral("loss")).toDouble());
    rescale();
  }
  if (values.contains(QStringLiteral("epoch_done"))) showEpochSummary(values);
  if (values.contains(QStringLiteral("epoch")))
    epochLabel_->setText(tr("Epoch %1/%2").arg(values.value(QStringLiteral("epoch")).toInt()).arg(totalEpochs_));
  else if (!stage.isEmpty())
    epochLabel_->setText(stage);
  if (values.contains(QStringLiteral("cells_per_s")))
    throughputLabel_->setText(tr("%1 cells/s").arg(values.value(QStringLiteral("cells_per_s")).toDouble(), 0, 'f', 0));
  if (values.contains(QStringLiteral("eta_s"))) etaLabel_->setText(tr("ETA %1").arg(duration(values.value(QStringLiteral("eta_s")).toDouble())));
  if (values.contains(QStringLiteral("device_memory_gib")))
    memoryLabel_->setText(tr("device memory %1 GiB").arg(values.value(QStringLiteral("device_memory_gib")).toDouble(), 0, 'f', 2));
}

void TrainingPanel::showEpochSummary(const QVariantMap& values) {
  // The trainer's end-of-epoch values: train/val loss and accuracy.
  const double epoch = values.value(QStringLiteral("epoch_done")).toDouble();
  totalEpochs_ = std::max({totalEpochs_, static_cast<int>(epoch), values.value(QStringLiteral("epochs")).toInt()});
  const std::pair<const char*, QLineSeries*> curves[] = {
      {"train_loss", trainLoss_}, {"train_acc", trainAcc_}, {"val_loss", valLoss_}, {"val_acc", valAcc_}};
  for (const auto& [key, series] : curves) {
    // A new fold of cross-validation starts again at epoch 1: its curves replace the last fold's.
    if (series->count() > 0 && series->at(series->count() - 1).x() >= epoch) series->clear();
    const QVariant v = values.value(QString::fromLatin1(key));
    if (v.isValid() && std::isfinite(v.toDouble())) series->append(epoch, v.toDouble());
  }
  rescale();
}

void TrainingPanel::rescale() {
  lossX_->setRange(0, std::max(1, totalEpochs_));
  accX_->setRange(0, std::max(1, totalEpochs_));
  double hi = 0;
  for (QLineSeries* s : {runningLoss_, trainLoss_, valLoss_})
    for (const QPointF& p : s->points()) hi = std::max(hi, p.y());
  lossY_->setRange(0, hi > 0 ? hi * 1.1 : 1);
}

QString TrainingPanel::statusText() const {
  return QStringList{epochLabel_->text(), throughputLabel_->text(), etaLabel_->text(), memoryLabel_->text(), message_->text()}.join(QStringLiteral(" | "));
}

void TrainingPanel::saveSettings() const {
  QSettings s;
  const TrainingRequest r = request();
  s.beginGroup(QStringLiteral("training"));
  s.setValue(QStringLiteral("model"), r.model);
  s.setValue(QStringLiteral("init"), r.init);
  s.setValue(QStringLiteral("label"), r.label);
  s.setValue(QStringLiteral("split"), static_cast<int>(r.split));
  s.setValue(QStringLiteral("fractions"), QVariantList{r.trainFraction, r.validationFraction, r.testFraction});
  s.setValue(QStringLiteral("folds"), r.folds);
  s.setValue(QStringLiteral("epochs"), r.epochs);
  s.setValue(QStringLiteral("batchSize"), r.batchSize);
  s.setValue(QStringLiteral("learningRate"), r.learningRate);
  s.setValue(QStringLiteral("device"), r.device);
  s.setValue(QStringLiteral("runDir"), r.runDir);
  s.endGroup();
}

void TrainingPanel::restoreSettings() {
  QSettings s;
  s.beginGroup(QStringLiteral("training"));
  if (!s.contains(QStringLiteral("model"))) return;
  TrainingRequest r;
  r.model = s.value(QStringLiteral("model"), r.model).toString();
  r.init = s.value(QStringLiteral("init")).toString();
  r.label = s.value(QStringLiteral("label"), r.label).toString();
  r.split = static_cast<TrainingRequest::Split>(std::clamp(s.value(QStringLiteral("split"), 0).toInt(), 0, 2));
  const QVariantList f = s.value(QStringLiteral("fractions")).toList();
  if (f.size() == 3) r.trainFraction = f[0].toDouble(), r.validationFraction = f[1].toDouble(), r.testFraction = f[2].toDouble();
  r.folds = s.value(QStringLiteral("folds"), r.folds).toInt();
  r.epochs = s.value(QStringLiteral("epochs"), r.epochs).toInt();
  r.batchSize = s.value(QStringLiteral("batchSize"), r.batchSize).toInt();
  r.learningRate = s.value(QStringLiteral("learningRate"), r.learningRate).toDouble();
  r.device = s.value(QStringLiteral("device"), r.device).toString();
  r.runDir = s.value(QStringLiteral("runDir"), runDir_->text()).toString();
  setRequest(r);
}

}  // namespace cw::ui
