#pragma once
// Evaluation of a run from its metrics.json: the confusion matrix as a heatmap (counts or
// row-normalised; clicking a cell asks to select those cells), per-class ROC curves with the
// AUC in the legend, and a table of the per-class and overall metrics.
#include <QJsonObject>
#include <QVector>
#include <QWidget>

class QChartView;
class QComboBox;
class QTabWidget;
class QTableWidget;

namespace cw::ui {

struct RunMetrics {
  QStringList labels;                    // confusion rows/columns
  QVector<QVector<double>> counts;       // rows = truth, columns = prediction
  QVector<QVector<double>> normalized;   // each row sums to 1 (0 for empty rows)
  QJsonObject json;                      // the whole file
  struct Prediction {
    QString cell, truth, predicted;
  };
  QVector<Prediction> predictions;       // from predictions.csv beside metrics.json, if any
  // Names of the test cells with this truth and prediction.
  QStringList cellsWith(const QString& truth, const QString& predicted) const;
  // Reads RUN/metrics.json (or the file itself); throws cw::Error with a readable reason.
  static RunMetrics load(const QString& runOrFile);
};

// White -> dark blue (matplotlib "Blues" end points), t in [0, 1].
QColor blues(double t);

class ConfusionHeatmap : public QWidget {
  Q_OBJECT
 public:
  explicit ConfusionHeatmap(QWidget* parent = nullptr);
  void setMetrics(const RunMetrics& metrics);
  void setNormalized(bool normalized);
  bool isNormalized() const { return normalized_; }
  // The rectangle drawn for (truth row, predicted column), in widget pixels.
  QRect cellRect(int row, int column) const;
  QColor cellColor(int row, int column) const;
  QSize sizeHint() const override { return {640, 560}; }

 Q_SIGNALS:
  void cellClicked(const QString& truth, const QString& predicted);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QRect gridRect() const;
  double value(int row, int column) const;

  RunMetrics metrics_;
  bool normalized_ = true;
};

class EvaluationView : public QWidget {
  Q_OBJECT
 public:
  explicit EvaluationView(QWidget* parent = nullptr);
  // Loads a run folder (or metrics.json); false with `error` set when it cannot be read.
  bool loadRun(const QString& runOrFile, QString* error = nullptr);
  // "confusion", "roc" or "metrics".
  void showPage(const QString& page);
  QWidget* page(const QString& page) const;
  ConfusionHeatmap* heatmap() const { return heatmap_; }
  QChartView* rocChart() const { return roc_; }
  QTableWidget* metricsTable() const { return table_; }
  const RunMetrics& metrics() const { return metrics_; }

 Q_SIGNALS:
  void confusionCellClicked(const QString& truth, const QString& predicted);

 private:
  void fillRoc();
  void fillTable();

  RunMetrics metrics_;
  QTabWidget* tabs_;
  ConfusionHeatmap* heatmap_;
  QComboBox* mode_;
  QChartView* roc_;
  QTableWidget* table_;
};

}  // namespace cw::ui
