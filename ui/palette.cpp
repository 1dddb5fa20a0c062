#include "cellwright/ui/palette.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace cw::ui {

namespace {

// scanpy.plotting.palettes.default_20 (vega category20 reordered so that the first ten are
// the strong colours).
constexpr std::array<unsigned, 20> kDefault20 = {
    0x1f77b4, 0xff7f0e, 0x279e68, 0xd62728, 0xaa40fc, 0x8c564b, 0xe377c2, 0xb5bd61, 0x17becf, 0xaec7e8,
    0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5, 0xc49c94, 0xf7b6d2, 0xdbdb8d, 0x9edae5, 0xad494a, 0x8c6d31};

// Viridis sampled at 9 evenly spaced points (matplotlib), linearly interpolated in between.
constexpr std::array<unsigned, 9> kViridis = {0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c,
                                              0x28ae80, 0x5ec962, 0xaadc32, 0xfde725};

}  // namespace

QVector<QColor> categoricalPalette(int count) {
  QVector<QColor> colors;
  colors.reserve(count);
  for (int i = 0; i < count && i < static_cast<int>(kDefault20.size()); ++i)
    colors.push_back(QColor::fromRgb(kDefault20[static_cast<size_t>(i)]));
  // Beyond 20: golden-angle hue steps at three lightness levels, skipping candidates too
  // close to a colour already used (deterministic, so colours are stable between runs).
  const double lightness[3] = {0.45, 0.65, 0.30};
  auto distance = [](const QColor& a, const QColor& b) -> double {
    return std::hypot(a.redF() - b.redF(), a.greenF() - b.greenF(), a.blueF() - b.blueF());
  };
  for (int candidate = 0, rejected = 0; colors.size() < count; ++candidate) {
    const double hue = std::fmod(0.07 + candidate * 0.381966, 1.0);
    const QColor c = QColor::fromHslF(static_cast<float>(hue), 0.75f, static_cast<float>(lightness[candidate % 3]));
    double nearest = 1e9;
    for (const QColor& used : colors) nearest = std::min(nearest, distance(c, used));
    if (nearest < 0.12 && rejected < 64) {
      ++rejected;
      continue;
    }
    rejected = 0;
    colors.push_back(c);
  }
  return colors;
}

QColor viridis(double t) {
  if (std::isnan(t)) return QColor(211, 211, 211);
  t = std::clamp(t, 0.0, 1.0) * (kViridis.size() - 1);
  const size_t i = std::min(static_cast<size_t>(t), kViridis.size() - 2);
  const double f = t - static_cast<double>(i);
  const QColor a = QColor::fromRgb(kViridis[i]), b = QColor::fromRgb(kViridis[i + 1]);
  auto mix = [f](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * f)); };
  return QColor(mix(a.red(), b.red()), mix(a.green(), b.green()), mix(a.blue(), b.blue()));
}

QColor missingColor() { return QColor(211, 211, 211); }

}  // namespace cw::ui
