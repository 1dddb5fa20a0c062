// Every malformed fixture (tests/reference/make_malformed_fixtures.py) gives a clean one-line
// cw::Error naming the problem, or reads with the expected warning. Never a crash.
#include <gtest/gtest.h>

#include "cellwright/core/errors.h"
#include "cellwright/io/readers.h"
#include "io_test_util.h"

TEST(Malformed, EachFixtureGivesItsOneLineErrorOrWarning) {
  const auto all = cwtest::loadJson(cwtest::ioData("malformed/expectations.json"));
  ASSERT_GE(all.size(), 25u);
  for (const auto& [name, e] : all.items()) {
    SCOPED_TRACE(name);
    const auto path = cwtest::ioData("malformed/" + name);
    if (e.contains("error")) {
      try {
        cw::io::readDataset(path);
        ADD_FAILURE() << "read without an error";
      } catch (const cw::Error& err) {
        const std::string msg = err.what();
        EXPECT_NE(msg.find(e["error"].get<std::string>()), std::string::npos) << msg;
        EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
        EXPECT_FALSE(msg.empty());
      }
    } else {
      auto result = cw::io::readDataset(path);
      bool found = false;
      for (const auto& w : result.warnings) found = found || w.find(e["warning"].get<std::string>()) != std::string::npos;
      EXPECT_TRUE(found) << (result.warnings.empty() ? std::string("no warnings") : result.warnings.front());
    }
  }
}

TEST(Malformed, DuplicatedNamesAreMadeUniqueAsAnndataDoes) {
  auto result = cw::io::readDataset(cwtest::ioData("malformed/duplicated_cell_names.h5ad"));
  const auto& names = result.dataset.obs.index;
  EXPECT_EQ(names[4], names[3] + "-1");
}

TEST(Malformed, FuzzerFindingsAreRefusedCleanly) {
  // Inputs that once crashed a reader (tests/fuzz/run_fuzz.sh): each must now read or give a
  // one-line cw::Error.
  const auto dir = std::filesystem::path(CELLWRIGHT_IO_TEST_DIR) / ".." / ".." / "fuzz" / "regressions";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    SCOPED_TRACE(entry.path().filename().string());
    try {
      cw::io::readDataset(entry.path());
    } catch (const cw::Error& err) {
      EXPECT_EQ(std::string(err.what()).find('\n'), std::string::npos);
    }
    ++checked;
  }
  EXPECT_GE(checked, 1);
}
