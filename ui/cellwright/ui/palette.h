#pragma once
// Colours for annotations: a categorical palette readable for many categories (scanpy's
// 20-colour default, then distinct hues at alternating lightness) and a continuous
// colormap (viridis) for numbers and gene expression.
#include <QColor>
#include <QVector>

namespace cw::ui {

// `count` colours; the first 20 are scanpy's default_20, later ones walk the hue circle by
// the golden angle at three lightness levels so neighbours in the list stay distinguishable.
QVector<QColor> categoricalPalette(int count);

// Viridis at t in [0, 1] (clamped); NaN gives light grey (missing values).
QColor viridis(double t);

// Colour used for cells with a missing category.
QColor missingColor();

}  // namespace cw::ui
