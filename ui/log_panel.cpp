#include "cellwright/ui/log_panel.h"

#include <QTime>

namespace cw::ui {

LogPanel::LogPanel(QWidget* parent) : QPlainTextEdit(parent) {
  setObjectName(QStringLiteral("logPanel"));
  setReadOnly(true);
  setMaximumBlockCount(5000);  // bounded memory on chatty jobs
}

void LogPanel::append(int level, const QString& message) {
  static const char* prefixes[] = {"debug", "", "warning", "error"};
  const QString prefix = (level >= 0 && level < 4 && *prefixes[level]) ? QString::fromLatin1(prefixes[level]) + QStringLiteral(": ") : QString();
  appendPlainText(QTime::currentTime().toString(QStringLiteral("HH:mm:ss ")) + prefix + message);
}

}  // namespace cw::ui
