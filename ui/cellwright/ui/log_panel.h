#pragma once
// Dock contents: engine and application messages, newest at the bottom.
#include <QPlainTextEdit>

namespace cw::ui {

class LogPanel : public QPlainTextEdit {
  Q_OBJECT
 public:
  explicit LogPanel(QWidget* parent = nullptr);
  // level: cw::LogLevel as int (0 debug, 1 info, 2 warning, 3 error).
  void append(int level, const QString& message);
};

}  // namespace cw::ui
