#include <gtest/gtest.h>

#include "cellwright/core/strings.h"

TEST(Strings, MakeUniqueFollowsAnndata) {
  // Expected values computed with anndata.utils.make_index_unique (anndata 0.8).
  std::vector<std::string> names{"A", "A", "B", "A", "A-1"};
  EXPECT_EQ(cw::makeUnique(names), 2u);
  EXPECT_EQ(names, (std::vector<std::string>{"A", "A-2", "B", "A-3", "A-1"}));
}

TEST(Strings, SplitAndJoinRoundTrip) {
  auto parts = cw::splitString("a,,b", ',');
  EXPECT_EQ(parts, (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(cw::joinStrings(parts, ","), "a,,b");
  EXPECT_EQ(cw::toLower("MT-Co1"), "mt-co1");
  EXPECT_TRUE(cw::startsWith("MT-CO1", "MT-"));
  EXPECT_TRUE(cw::endsWith("x.h5ad", ".h5ad"));
}
