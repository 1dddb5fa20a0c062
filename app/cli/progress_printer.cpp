#include "cellwright/cli/progress_printer.h"

#include <cstdio>

#include "cellwright/cli/cli.h"

namespace cw::cli {

ProgressPrinter::ProgressPrinter(Feedback& feedback, bool verbose) : terminal_(stderrIsTerminal()) {
  feedback.setProgressCallback([this](const Progress& p) { draw(p); });
  feedback.setLogCallback([this, verbose](LogLevel level, const std::string& message) {
    if (level == LogLevel::Debug || (level == LogLevel::Info && !verbose && !terminal_)) return;
    if (drawn_) std::fputs("\r\033[K", stderr);
    const char* prefix = level == LogLevel::Warning ? "warning: " : level == LogLevel::Error ? "error: " : "";
    std::fprintf(stderr, "%s%s\n", prefix, message.c_str());
    drawn_ = false;
  });
}

ProgressPrinter::~ProgressPrinter() {
  if (drawn_) std::fputs("\n", stderr);
}

void ProgressPrinter::draw(const Progress& p) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (p.fraction < 1.0 && now - lastDraw_ < std::chrono::milliseconds(100)) return;  // throttle
  lastDraw_ = now;
  const int width = 30;
  const double f = p.fraction < 0 ? 0 : (p.fraction > 1 ? 1 : p.fraction);
  const int filled = static_cast<int>(f * width);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  std::string extra;
  for (const auto& [k, v] : p.values) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s=%.4g", k.c_str(), v);
    extra += buf;
  }
  std::fprintf(stderr, "\r\033[K[%s] %3.0f%% %s%s", bar.c_str(), f * 100, p.stage.c_str(), extra.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace cw::cli
