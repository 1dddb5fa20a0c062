#pragma once
// A small form for an analysis step's numeric parameters, pre-filled with the engine's
// defaults (scanpy's) or the values last used (remembered in QSettings under `settingsGroup`).
#include <QDialog>
#include <QMap>
#include <QString>

class QDoubleSpinBox;
class QFormLayout;

namespace cw::ui {

class ParametersDialog : public QDialog {
  Q_OBJECT
 public:
  ParametersDialog(const QString& title, const QString& settingsGroup, QWidget* parent = nullptr);
  // Adds a field; `decimals` 0 gives whole numbers.
  void addField(const QString& key, const QString& label, double defaultValue, double minimum, double maximum, int decimals = 0);
  double value(const QString& key) const;
  void setValue(const QString& key, double value);
  // Fills the fields from the last accepted values, if any.
  void restore();
  // Remembers the current values (called on accept).
  void remember() const;

 private:
  QString group_;
  QFormLayout* form_;
  QMap<QString, QDoubleSpinBox*> fields_;
};

}  // namespace cw::ui
