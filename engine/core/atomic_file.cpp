#include "cellwright/core/atomic_file.h"

#include <fstream>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <sstream>

#include "cellwright/core/errors.h"

namespace cw {
namespace fs = std::filesystem;

fs::path temporarySibling(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  const auto clock = std::chrono::steady_clock::now().time_since_epoch().count();
  fs::path tmp = target;
  tmp += ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(clock % 1000000);
  return tmp;
}

void writeAtomically(const fs::path& target, const std::function<void(const fs::path&)>& write) {
  if (target.has_parent_path() && !fs::exists(target.parent_path()))
    fs::create_directories(target.parent_path());
  const fs::path tmp = temporarySibling(target);
  try {
    write(tmp);
    fs::rename(tmp, target);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void writeTextAtomically(const fs::path& target, const std::string& text) {
  writeAtomically(target, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw Error("cannot write " + target.string());
    out << text;
    out.close();
    if (!out) throw Error("cannot write " + target.string() + " (disk full?)");
  });
}

std::string readTextFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cw
