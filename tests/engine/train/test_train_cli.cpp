// End-to-end: the CLI's finetune, predict and pretrain commands on the bundled demo data.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cellwright/core/atomic_file.h"

namespace fs = std::filesystem;

namespace {

struct Run {
  int code = -1;
  std::string output;  // stdout and stderr
};

Run cli(const std::string& arguments) {
  Run r;
  const std::string command = std::string(CELLWRIGHT_CLI_PATH) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::array<char, 4096> buffer{};
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) r.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const std::string kDemo = std::string(CELLWRIGHT_SHARED_DATA_DIR) + "/seurat_pbmc_small_80.h5ad";

fs::path temp(const std::string& name) {
  auto p = fs::temp_directory_path() / ("cw_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

}  // namespace

TEST(TrainCli, FineTuneThenPredictWritesTheContractKeys) {
  const auto run = temp("run");
  auto r = cli("finetune --model mlp --data " + kDemo + " --label cell_type -o " + run.string() +
               " --epochs 3 --batch-size 16 --device cpu");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("preset: small"), std::string::npos) << r.output;  // the choice is printed
  const auto metrics = nlohmann::json::parse(cw::readTextFile(run / "metrics.json"));
  EXPECT_GE(metrics["accuracy"].get<double>(), 0.0);

  // An existing run folder is refused (exit 1, one line), replaced with --force.
  r = cli("finetune --model mlp --data " + kDemo + " --label cell_type -o " + run.string() + " --epochs 1");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;

  const auto out = temp("pred.h5ad"), csv = temp("pred.csv");
  r = cli("predict --run " + run.string() + " --data " + kDemo + " -o " + out.string() + " --csv " + csv.string() +
          " --min-confidence 0.5");
  ASSERT_EQ(r.code, 0) << r.output;
  const auto text = cw::readTextFile(csv);
  EXPECT_EQ(text.substr(0, text.find('\n')), "cell,prediction,confidence,p_0,p_1,p_2");
  EXPECT_TRUE(fs::exists(out));
}

TEST(TrainCli, BadUsageAndBadInput) {
  EXPECT_EQ(cli("finetune --model logreg --data " + kDemo + " -o " + temp("x").string()).code, 2);  // no --label
  EXPECT_EQ(cli("finetune --model logreg --data " + kDemo + " --label cell_type -o " + temp("y").string() +
                " --cv 3 --split 0.5,0.25,0.25").code, 2);
  auto r = cli("finetune --model logreg --data " + kDemo + " --label no_such -o " + temp("z").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("no obs column 'no_such'"), std::string::npos) << r.output;
  r = cli("predict --run " + temp("missing").string() + " --data " + kDemo + " -o " + temp("o.h5ad").string());
  EXPECT_EQ(r.code, 1);
  r = cli("pretrain --model logreg --data " + kDemo + " -o " + temp("p").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("no pre-training objective"), std::string::npos) << r.output;
}

TEST(TrainCli, PretrainStreamsFromDiskOnRequest) {
  const auto dir = temp("stream");
  auto r = cli("pretrain --model cellpatch --data " + kDemo + " --stream on --epochs 1 --batch-size 16 --preset small"
               " --device cpu -o " + dir.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("data streamed from disk"), std::string::npos) << r.output;
  const auto config = nlohmann::json::parse(cw::readTextFile(dir / "config.json"));
  EXPECT_EQ(config["streamed"], true);
  EXPECT_EQ(nlohmann::json::parse(cw::readTextFile(dir / "split.json"))["train"].size(), 72u);
  EXPECT_EQ(cli("pretrain --model cellpatch --data " + kDemo + " --stream sometimes -o " + temp("s2").string()).code, 2);
  fs::remove_all(dir);
}
