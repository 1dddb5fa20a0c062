#pragma once
// Fine-tuning from the GUI: model, optional pre-trained run, label column, split (fractions,
// k-fold or a held-out batch), epochs, batch size, learning rate and device; Start/Cancel;
// live loss and accuracy curves, throughput, ETA and device memory from the job's progress.
// When the run ends its predictions become annotations and its evaluation opens.
#include <QVariantMap>
#include <QWidget>

#include "cellwright/ui/job.h"
#include "cellwright/ui/training_job.h"

class QChart;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QLineSeries;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QValueAxis;

namespace cw::ui {

class Document;
class JobQueue;

class TrainingPanel : public QWidget {
  Q_OBJECT
 public:
  TrainingPanel(Document* document, JobQueue* jobs, QWidget* parent = nullptr);

  TrainingRequest request() const;
  void setRequest(const TrainingRequest& request);
  // Queues the run; false (and a message) when the form is incomplete.
  bool start();
  void cancel();
  bool isRunning() const { return running_ != 0; }

  // Live display, fed by the job's progress values (public for tests): the running loss
  // ("loss"), throughput, ETA, device memory, and at each epoch's end ("epoch_done")
  // train_loss, train_acc, val_loss and val_acc.
  void showProgress(double fraction, const QString& stage, const QVariantMap& values);
  QChart* lossChart() const { return lossChart_; }
  QChart* accuracyChart() const { return accuracyChart_; }
  QLineSeries* runningLoss() const { return runningLoss_; }
  QLineSeries* validationLoss() const { return valLoss_; }
  QLineSeries* validationAccuracy() const { return valAcc_; }
  QLineSeries* trainingLoss() const { return trainLoss_; }
  QLineSeries* trainingAccuracy() const { return trainAcc_; }
  QString statusText() const;

 Q_SIGNALS:
  void trainingFinished(const cw::ui::TrainingOutcome& outcome);

 private:
  void onDatasetChanged();
  void resetCurves();
  void showEpochSummary(const QVariantMap& values);
  void rescale();
  void saveSettings() const;
  void restoreSettings();

  Document* document_;
  JobQueue* jobs_;
  JobId running_ = 0;
  QComboBox *model_, *label_, *split_, *batchKey_, *testBatch_, *device_;
  QLineEdit *init_, *runDir_;
  QDoubleSpinBox *trainFraction_, *valFraction_, *testFraction_, *lr_;
  QSpinBox *folds_, *epochs_, *batchSize_;
  QStackedWidget* splitOptions_;
  QPushButton *startButton_, *cancelButton_;
  QLabel *epochLabel_, *throughputLabel_, *etaLabel_, *memoryLabel_, *message_;
  QChart *lossChart_, *accuracyChart_;
  QLineSeries *runningLoss_, *trainLoss_, *valLoss_, *trainAcc_, *valAcc_;
  QValueAxis *lossX_, *lossY_, *accX_, *accY_;
  int totalEpochs_ = 1;
};

}  // namespace cw::ui
