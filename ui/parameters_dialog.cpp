#include "cellwright/ui/parameters_dialog.h"

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

namespace cw::ui {

ParametersDialog::ParametersDialog(const QString& title, const QString& settingsGroup, QWidget* parent)
    : QDialog(parent), group_(settingsGroup) {
  setWindowTitle(title);
  form_ = new QFormLayout;
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    remember();
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this, [this] {
    for (auto* box : fields_) box->setValue(box->property("defaultValue").toDouble());
  });
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form_);
  layout->addWidget(buttons);
}

void ParametersDialog::addField(const QString& key, const QString& label, double defaultValue, double minimum, double maximum, int decimals) {
  auto* box = new QDoubleSpinBox(this);
  box->setObjectName(key);
  box->setDecimals(decimals);
  box->setRange(minimum, maximum);
  box->setValue(defaultValue);
  box->setProperty("defaultValue", defaultValue);
  box->setToolTip(tr("Default: %1").arg(defaultValue));
  form_->addRow(label, box);
  fields_.insert(key, box);
}

double ParametersDialog::value(const QString& key) const {
  auto* box = fields_.value(key);
  return box ? box->value() : 0.0;
}

void ParametersDialog::setValue(const QString& key, double value) {
  if (auto* box = fields_.value(key)) box->setValue(value);
}

void ParametersDialog::restore() {
  QSettings settings;
  settings.beginGroup(group_);
  for (auto it = fields_.begin(); it != fields_.end(); ++it)
    if (settings.contains(it.key())) it.value()->setValue(settings.value(it.key()).toDouble());
}

void ParametersDialog::remember() const {
  QSettings settings;
  settings.beginGroup(group_);
  for (auto it = fields_.begin(); it != fields_.end(); ++it) settings.setValue(it.key(), it.value()->value());
}

}  // namespace cw::ui
