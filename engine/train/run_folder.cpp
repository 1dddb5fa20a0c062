#include "cellwright/train/run_folder.h"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "cellwright/core/atomic_file.h"
#include "cellwright/core/errors.h"

namespace cw::train {
namespace fs = std::filesystem;

void prepareRunFolder(const fs::path& dir, const RunFolderOptions& options) {
  const bool exists = fs::exists(dir);
  if (exists && !fs::is_directory(dir)) throw Error(dir.string() + " exists and is not a folder");
  const bool nonEmpty = exists && fs::directory_iterator(dir) != fs::directory_iterator();
  if (nonEmpty) {
    if (options.resume) {
      if (!fs::exists(dir / "config.json"))
        throw Error("cannot resume: " + dir.string() + " is not a Cellwright run folder (no config.json)");
    } else if (options.force) {
      for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
    } else {
      throw Error("run folder " + dir.string() + " already exists: use --resume to continue it or --force to replace it");
    }
  } else if (options.resume) {
    throw Error("cannot resume: run folder " + dir.string() + " does not exist");
  }
  fs::create_directories(dir / "checkpoints");
}

void writeJsonFile(const fs::path& path, const nlohmann::json& json) { writeTextAtomically(path, json.dump(2) + "\n"); }

nlohmann::json readJsonFile(const fs::path& path) {
  try {
    return nlohmann::json::parse(readTextFile(path));
  } catch (const nlohmann::json::exception&) {
    throw Error(path.string() + " is not valid JSON");
  }
}

RunFeedback::RunFeedback(const fs::path& logFile, Feedback* caller)
    : caller_(caller) {
  if (!logFile.empty()) {
    log_ = std::make_shared<std::ofstream>(logFile, std::ios::app);
    if (!*log_) throw Error("cannot write " + logFile.string());
  }
  auto log = log_;
  inner_.setLogCallback([log, caller](LogLevel level, const std::string& message) {
    const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    const char* tag = level == LogLevel::Warning ? " WARNING " : level == LogLevel::Error ? " ERROR " : " ";
    if (log) {
      *log << std::put_time(&utc, "%Y-%m-%dT%H:%M:%SZ") << tag << message << "\n";
      log->flush();
    }
    if (caller) caller->log(level, message);
  });
  inner_.setProgressCallback([this](const Progress& p) {
    if (caller_) {
      caller_->report(p);
      if (caller_->isCanceled()) inner_.cancel();
    }
  });
}

void RunFeedback::throwIfCanceled() {
  if (caller_ && caller_->isCanceled()) inner_.cancel();
  inner_.throwIfCanceled();
}

}  // namespace cw::train
