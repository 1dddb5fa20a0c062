#pragma once
// The main window: menus, the dataset / jobs / log docks, a central cell table, and a
// status bar naming the compute device.
#include <QMainWindow>

#include <functional>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace cw::ui {

class Document;
class JobQueue;
class DatasetPanel;
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

  // Reads `path` on the engine thread; `done(ok, message)` runs on the GUI thread afterwards.
  void openDataset(const QString& path, std::function<void(bool ok, const QString& message)> done = {});

 private:
  void buildMenus();
  void buildDocks();
  void chooseAndOpen();
  void onDatasetChanged();

  JobQueue* jobs_;
  Document* document_;
  ObsTableModel* obsModel_;
  QSortFilterProxyModel* obsProxy_;
  QTableView* cellTable_;
  QLineEdit* filterEdit_;
  DatasetPanel* datasetPanel_ = nullptr;
  JobsPanel* jobsPanel_ = nullptr;
  LogPanel* logPanel_ = nullptr;
  QLabel* deviceLabel_ = nullptr;
  QLabel* datasetLabel_ = nullptr;
};

}  // namespace cw::ui
