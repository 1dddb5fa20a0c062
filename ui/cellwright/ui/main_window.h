#pragma once
// The main window: menus, the dataset / jobs / log docks, a central cell table, and a
// status bar naming the compute device.
#include <QMainWindow>

#include <cstdint>
#include <functional>
#include <vector>

class QLabel;
class QMenu;
class QLineEdit;
class QSortFilterProxyModel;
class QTabWidget;
class QTableView;

namespace cw::ui {

class Document;
class JobQueue;
class DatasetPanel;
class DeWindow;
class EmbeddingView;
class EvaluationView;
class PagaView;
class TrainingPanel;
class JobsPanel;
class LogPanel;
class ObsTableModel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  JobQueue* jobQueue() const { return jobs_; }
  Document* document() const { return document_; }
  LogPanel* logPanel() const { return logPanel_; }
  QTableView* cellTable() const { return cellTable_; }
  EmbeddingView* embeddingView() const { return embeddingView_; }
  EvaluationView* evaluationView() const { return evaluationView_; }
  PagaView* pagaView() const { return pagaView_; }
  TrainingPanel* trainingPanel() const { return trainingPanel_; }
  // Shows and raises the training dock, wide enough for the curves' tick labels.
  void showTrainingPanel();
  // Shows a run folder's metrics.json in the evaluation view.
  bool openRun(const QString& run, QString* error = nullptr);
  // Selects, in the embedding, the test cells with this truth and prediction.
  void selectConfusionCell(const QString& truth, const QString& predicted);
  // Brings a central view (the cell table's page, the embedding view ...) to the front.
  void showView(QWidget* view);

  // Writes the dataset to .h5ad on the engine thread; the document is then marked saved.
  void saveDataset(const QString& path, std::function<void(bool ok)> done = {});
  // Window geometry and dock layout from the last session.
  void restoreLayout();

  // A differential-expression window (lasso selections come from the embedding view).
  DeWindow* openDifferentialExpression();

  // Reads `path` on the engine thread; `done(ok, message)` runs on the GUI thread afterwards.
  void openDataset(const QString& path, std::function<void(bool ok, const QString& message)> done = {});

 protected:
  // Unsaved annotations or analysis results prompt before closing; the layout is remembered.
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildMenus();
  void rememberRecent(const QString& path);
  void updateRecentMenu();
  void buildDocks();
  void chooseAndOpen();
  void onDatasetChanged();
  void keepSelectionAsCategory(const std::vector<int64_t>& cells);
  void compareSelection(const std::vector<int64_t>& cells);

  JobQueue* jobs_;
  Document* document_;
  ObsTableModel* obsModel_;
  QSortFilterProxyModel* obsProxy_;
  QTableView* cellTable_;
  QLineEdit* filterEdit_;
  QTabWidget* views_ = nullptr;
  EmbeddingView* embeddingView_ = nullptr;
  EvaluationView* evaluationView_ = nullptr;
  PagaView* pagaView_ = nullptr;
  TrainingPanel* trainingPanel_ = nullptr;
  DatasetPanel* datasetPanel_ = nullptr;
  JobsPanel* jobsPanel_ = nullptr;
  LogPanel* logPanel_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QLabel* deviceLabel_ = nullptr;
  QLabel* datasetLabel_ = nullptr;
};

}  // namespace cw::ui
