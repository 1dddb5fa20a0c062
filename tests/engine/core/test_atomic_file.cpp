#include <gtest/gtest.h>

#include <filesystem>

#include "cellwright/core/atomic_file.h"

namespace fs = std::filesystem;

TEST(AtomicFile, FailedWriteLeavesOldFileAndNoTemporary) {
  const fs::path dir = fs::temp_directory_path() / "cw_atomic_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path target = dir / "metrics.json";
  cw::writeTextAtomically(target, "old");
  EXPECT_THROW(cw::writeAtomically(target,
                                   [](const fs::path& tmp) {
                                     cw::writeTextAtomically(tmp, "half");
                                     throw std::runtime_error("disk full");
                                   }),
               std::runtime_error);
  EXPECT_EQ(cw::readTextFile(target), "old");
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}
