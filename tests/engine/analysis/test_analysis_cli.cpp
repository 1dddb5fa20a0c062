// End to end: pca -> neighbors -> umap -> leiden -> paga -> de -> evaluate on pbmc68k_reduced_700.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cellwright/core/atomic_file.h"
#include "cellwright/io/readers.h"
#include "test_helpers.h"

namespace fs = std::filesystem;

namespace {

struct CliResult {
  int exitCode = -1;
  std::string out, err;
};

fs::path workDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("cw_analysis_cli_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

CliResult cli(const std::string& arguments) {
  const fs::path out = workDir() / "stdout.txt", err = workDir() / "stderr.txt";
  const std::string command = std::string("\"") + CELLWRIGHT_CLI_PATH + "\" " + arguments + " >\"" + out.string() +
                              "\" 2>\"" + err.string() + "\"";
  const int status = std::system(command.c_str());
  CliResult r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = cw::readTextFile(out);
  r.err = cw::readTextFile(err);
  return r;
}

std::string input() { return std::string(CELLWRIGHT_SHARED_DATA_DIR) + "/pbmc68k_reduced_700.h5ad"; }
std::string path(const std::string& name) { return (workDir() / name).string(); }

// Whether this build has igraph (Leiden), from `doctor --json`.
bool hasIgraph() {
  static const bool has = [] {
    const CliResult r = cli("doctor --json");
    return r.exitCode == 0 && nlohmann::json::parse(r.out)["backends"]["igraph"].get<bool>();
  }();
  return has;
}

// Runs the chain once per test process; each test looks at one step's output.
const bool& chainDone() {
  static const bool done = [] {
    std::vector<std::string> steps = {
        "pca " + input() + " -o " + path("pca.h5ad"),
        "neighbors " + path("pca.h5ad") + " -o " + path("nn.h5ad"),
        "umap " + path("nn.h5ad") + " -o " + path("umap.h5ad") + " --seed 1",
        "paga " + path("umap.h5ad") + " -o " + path("paga.h5ad") + " --groups cell_type --json " + path("paga.json"),
    };
    if (hasIgraph()) steps.push_back("leiden " + path("umap.h5ad") + " -o " + path("leiden.h5ad") + " --seed 1");
    for (const auto& s : steps) {
      const CliResult r = cli(s);
      if (r.exitCode != 0) {
        ADD_FAILURE() << s << " -> " << r.exitCode << ": " << r.err;
        return false;
      }
    }
    return true;
  }();
  return done;
}

cw::Dataset read(const std::string& name) { return cw::io::readDataset(path(name)).dataset; }

// Removes this process's scratch folder after the last test.
struct RemoveWorkDir : ::testing::Environment {
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(workDir(), ignored);
  }
};
[[maybe_unused]] ::testing::Environment* const removeWorkDir = ::testing::AddGlobalTestEnvironment(new RemoveWorkDir);

}  // namespace

TEST(AnalysisCli, PcaMatchesScikitLearnOnFlaggedGenes) {
  ASSERT_TRUE(chainDone());
  const auto d = read("pca.h5ad");
  ASSERT_EQ(d.obsm.at("X_pca").rows, 700);
  ASSERT_EQ(d.obsm.at("X_pca").cols, 50);
  const auto& ratio = std::get<std::vector<double>>(d.uns.at("pca").dict().at("variance_ratio").value);
  const auto expected = loadFixture("graph_reference.json")["pca_hvg_counts_ratio"];
  ASSERT_EQ(ratio.size(), expected.size());
  for (size_t c = 0; c < ratio.size(); ++c) EXPECT_NEAR(ratio[c], expected[c].get<double>(), 1e-3) << "component " << c;
}

TEST(AnalysisCli, NeighborsUmapLeidenPaga) {
  ASSERT_TRUE(chainDone());
  const auto nn = read("nn.h5ad");
  const auto& conn = nn.obsp.at("connectivities");
  EXPECT_EQ(conn.rows, 700);
  EXPECT_EQ(nn.obsp.at("distances").nnz(), 700 * 14);
  const auto um = read("umap.h5ad");
  EXPECT_EQ(um.obsm.at("X_umap").cols, 2);
  if (hasIgraph()) {
    const auto le = read("leiden.h5ad");
    const auto& clusters = le.obs.at("leiden");
    EXPECT_EQ(clusters.kind, cw::Column::Kind::Categorical);
    EXPECT_GT(clusters.categories.size(), 3u);
  }
  const auto pg = read("paga.h5ad");
  EXPECT_TRUE(pg.uns.at("paga").dict().count("connectivities_tree"));
  const auto json = nlohmann::json::parse(cw::readTextFile(path("paga.json")));
  EXPECT_EQ(json["groups"].size(), 10u);
  EXPECT_EQ(json["connectivities"].size(), 10u);
  EXPECT_EQ(json["tree"].size(), 9u);
}

TEST(AnalysisCli, DifferentialExpressionCsv) {
  const CliResult r = cli("de " + input() + " --groupby cell_type -o " + path("de.csv"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::istringstream csv(cw::readTextFile(path("de.csv")));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "group,gene,score,logfoldchange,pval,pval_adj");
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 10 * 765);
  const CliResult pair = cli("de " + input() + " --groupby cell_type --group 'CD14+ Monocyte' --reference 'CD19+ B' --method t-test -o " +
                       path("de2.csv"));
  EXPECT_EQ(pair.exitCode, 0) << pair.err;
  EXPECT_EQ(cli("de " + input() + " --groupby no_such_column -o " + path("de3.csv")).exitCode, 1);
}

TEST(AnalysisCli, EvaluatePerfectAgreement) {
  ASSERT_TRUE(chainDone());
  const CliResult cls = cli("evaluate --data " + path("umap.h5ad") + " --label cell_type --pred-col cell_type -o " + path("m1.json"));
  ASSERT_EQ(cls.exitCode, 0) << cls.err;
  const auto m1 = nlohmann::json::parse(cw::readTextFile(path("m1.json")));
  EXPECT_DOUBLE_EQ(m1["accuracy"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m1["macro_f1"].get<double>(), 1.0);
  EXPECT_FALSE(m1.contains("roc"));

  const CliResult clu = cli("evaluate --data " + path("umap.h5ad") + " --label cell_type --cluster-col cell_type --embedding X_pca -o " +
                      path("m2.json"));
  ASSERT_EQ(clu.exitCode, 0) << clu.err;
  const auto m2 = nlohmann::json::parse(cw::readTextFile(path("m2.json")));
  EXPECT_DOUBLE_EQ(m2["nmi"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m2["ari"].get<double>(), 1.0);
  for (const char* key : {"silhouette", "graph_connectivity", "avg_bio"}) {
    EXPECT_GT(m2[key].get<double>(), 0.0) << key;
    EXPECT_LE(m2[key].get<double>(), 1.0) << key;
  }
  if (!hasIgraph()) return;
  const CliResult clusters = cli("evaluate --data " + path("leiden.h5ad") + " --label cell_type --cluster-col leiden --embedding X_umap -o " +
                           path("m3.json"));
  ASSERT_EQ(clusters.exitCode, 0) << clusters.err;
  EXPECT_LT(nlohmann::json::parse(cw::readTextFile(path("m3.json")))["ari"].get<double>(), 1.0);
}

TEST(AnalysisCli, ErrorsAndUsage) {
  const CliResult noGraph = cli("leiden " + input() + " -o " + path("x.h5ad"));
  EXPECT_EQ(noGraph.exitCode, 1);
  EXPECT_NE(noGraph.err.find(hasIgraph() ? "neighbors" : "not available in this build"), std::string::npos) << noGraph.err;
  EXPECT_EQ(cli("umap " + input() + " -o " + path("x.h5ad")).exitCode, 1);
  EXPECT_EQ(cli("neighbors " + input() + " -o " + path("x.h5ad")).exitCode, 1);  // no X_pca yet
  EXPECT_EQ(cli("evaluate --data " + input() + " --label cell_type -o " + path("x.json")).exitCode, 2);
  EXPECT_EQ(cli("pca " + input() + " -o " + path("x.h5ad") + " --n-comps 0").exitCode, 2);
  EXPECT_FALSE(fs::exists(path("x.h5ad")));
}

TEST(AnalysisCli, TorchNeighboursEqualExactOnes) {
  ASSERT_TRUE(chainDone());
  const CliResult r = cli("neighbors " + path("pca.h5ad") + " --method torch --device cpu -o " + path("nn_torch.h5ad"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto exact = read("nn.h5ad").obsp.at("distances");
  const auto viaTorch = read("nn_torch.h5ad").obsp.at("distances");
  EXPECT_EQ(viaTorch.indptr, exact.indptr);
  int64_t same = 0;
  for (size_t p = 0; p < exact.indices.size(); ++p) same += exact.indices[p] == viaTorch.indices[p];
  EXPECT_GE(static_cast<double>(same) / exact.indices.size(), 0.999);
}
