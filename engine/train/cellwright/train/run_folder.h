#pragma once
// A run folder (the contract): config.json, log.txt, split.json, genes.txt,
// checkpoints/{best,last}.ckpt, metrics.json, history.json, predictions.csv.
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>

#include <nlohmann/json.hpp>

#include "cellwright/core/feedback.h"

namespace cw::train {

struct RunFolderOptions {
  bool force = false;   // replace an existing run folder
  bool resume = false;  // continue the run in an existing folder
};

// Creates `dir` (and checkpoints/). An existing non-empty folder is refused unless `force`
// (it is emptied) or `resume` (it is kept; it must hold config.json). Throws cw::Error.
void prepareRunFolder(const std::filesystem::path& dir, const RunFolderOptions& options);

// Writes `json` pretty-printed, atomically.
void writeJsonFile(const std::filesystem::path& path, const nlohmann::json& json);
nlohmann::json readJsonFile(const std::filesystem::path& path);

// A Feedback for the engine that also appends every log line to log.txt (none when the
// path is empty), and forwards
// progress, log lines and the caller's cancel to the caller's Feedback (which may be null).
class RunFeedback {
 public:
  RunFeedback(const std::filesystem::path& logFile, Feedback* caller);
  Feedback* get() { return &inner_; }
  // Writes a line to log.txt and the caller.
  void info(const std::string& message) { inner_.info(message); }
  // A poll point for the caller's cancel outside the trainer's loop.
  void throwIfCanceled();

 private:
  Feedback inner_;
  Feedback* caller_;
  std::shared_ptr<std::ofstream> log_;
};

}  // namespace cw::train
