#pragma once
// Draws Feedback progress as a one-line bar on stderr when it is a terminal; quiet otherwise
// (the contract: scripts see no progress noise). Log lines of warning level and above always
// go to stderr.
#include <chrono>
#include <string>

#include "cellwright/core/feedback.h"

namespace cw::cli {

class ProgressPrinter {
 public:
  // Installs callbacks on `feedback`. `verbose`: info-level log lines too.
  explicit ProgressPrinter(Feedback& feedback, bool verbose = false);
  ~ProgressPrinter();  // ends the bar's line

 private:
  void draw(const Progress& progress);
  bool terminal_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point lastDraw_{};
};

}  // namespace cw::cli
