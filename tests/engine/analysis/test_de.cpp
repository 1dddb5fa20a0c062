#include <algorithm>
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "cellwright/analysis/de.h"
#include "cellwright/core/errors.h"
#include "test_helpers.h"

using namespace cw::analysis;

namespace {

struct DeFixture {
  nlohmann::json json;
  cw::Dataset dataset;
  std::vector<int> groups;
};

const DeFixture& fixture() {
  static const DeFixture f = [] {
    DeFixture d;
    d.json = loadFixture("de_reference.json");
    auto& x = d.dataset.X;
    x.rows = d.json["n"].get<int64_t>();
    x.cols = d.json["g"].get<int64_t>();
    x.indptr = d.json["indptr"].get<std::vector<int64_t>>();
    x.indices = d.json["indices"].get<std::vector<int32_t>>();
    for (const auto& v : d.json["data"]) x.data.push_back(static_cast<float>(v.get<double>()));
    d.groups = d.json["groups"].get<std::vector<int>>();
    d.dataset.obs.index.resize(x.rows);
    d.dataset.obs.set("group", cw::Column::categorical(std::vector<int32_t>(d.groups.begin(), d.groups.end()), {"g0", "g1", "g2"}));
    return d;
  }();
  return f;
}

void expectMatches(const DeComparison& c, const nlohmann::json& expected, const std::string& method) {
  ASSERT_EQ(c.genes.size(), expected["logfoldchange"].size());
  std::map<int64_t, DeGene> byGene;
  for (const auto& g : c.genes) byGene[g.gene] = g;
  for (const auto& [gene, r] : byGene) {
    EXPECT_NEAR(r.score, expected[method + "_score"][gene].get<double>(), 1e-9) << method << " gene " << gene;
    EXPECT_NEAR(r.pval, expected[method + "_pval"][gene].get<double>(), 1e-6) << method << " gene " << gene;
    EXPECT_NEAR(r.pvalAdj, expected[method + "_pval_adj"][gene].get<double>(), 1e-6) << method << " gene " << gene;
    EXPECT_NEAR(r.logFoldChange, expected["logfoldchange"][gene].get<double>(), 1e-4) << "gene " << gene;
  }
  for (size_t i = 1; i < c.genes.size(); ++i) EXPECT_GE(c.genes[i - 1].score, c.genes[i].score);
}

}  // namespace

TEST(De, WilcoxonGroupVsRestMatchesScipy) {
  const auto& f = fixture();
  const auto result = rankGenesGroups(f.dataset, "group", std::string("g0"), "rest");
  ASSERT_EQ(result.size(), 1u);
  expectMatches(result[0], f.json["group0_vs_rest"], "wilcoxon");
}

TEST(De, TTestGroupVsGroupMatchesScipy) {
  const auto& f = fixture();
  DeOptions o;
  o.method = DeMethod::TTest;
  const auto result = rankGenesGroups(f.dataset, "group", std::string("g1"), "g2", o);
  expectMatches(result[0], f.json["group1_vs_group2"], "ttest");
  const auto wilcoxon = rankGenesGroups(f.dataset, "group", std::string("g1"), "g2");
  expectMatches(wilcoxon[0], f.json["group1_vs_group2"], "wilcoxon");
}

TEST(De, ArbitrarySelectionsEqualTheGroupComparison) {
  const auto& f = fixture();
  std::vector<int64_t> a, b;
  for (size_t i = 0; i < f.groups.size(); ++i) (f.groups[i] == 0 ? a : b).push_back(static_cast<int64_t>(i));
  const auto c = rankGenes(f.dataset.X, a, b);
  expectMatches(c, f.json["group0_vs_rest"], "wilcoxon");
  EXPECT_THROW(rankGenes(f.dataset.X, a, a), cw::Error);
  EXPECT_THROW(rankGenes(f.dataset.X, {}, b), cw::Error);
}

TEST(De, EveryGroupAgainstTheRestAndCsv) {
  const auto& f = fixture();
  const auto all = rankGenesGroups(f.dataset, "group", std::nullopt, "rest");
  ASSERT_EQ(all.size(), 3u);
  std::vector<std::string> genes;
  for (int64_t g = 0; g < f.dataset.nVars(); ++g) genes.push_back("gene" + std::to_string(g));
  const std::string csv = deToCsv(all, genes);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "group,gene,score,logfoldchange,pval,pval_adj");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3 * f.dataset.nVars());
  EXPECT_THROW(rankGenesGroups(f.dataset, "group", std::string("nope"), "rest"), cw::Error);
}

TEST(De, HandComputedPValues) {
  EXPECT_NEAR(normalTwoSidedP(1.959963984540054), 0.05, 1e-12);
  // t = 2.228138851986 with 10 degrees of freedom is the two-sided 5% point.
  EXPECT_NEAR(studentTwoSidedP(2.228138851986, 10), 0.05, 1e-10);
  // One degree of freedom is the Cauchy distribution: P(|T| > 1) = 1/2.
  EXPECT_NEAR(studentTwoSidedP(1.0, 1.0), 0.5, 1e-14);
}
