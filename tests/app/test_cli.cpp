#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

TEST(Cli, VersionLine) {
  auto run = runCli({"--version"});
  EXPECT_EQ(run.exitCode, 0);
  EXPECT_EQ(run.out.rfind("cellwright ", 0), 0u);
  EXPECT_NE(run.out.find('.'), std::string::npos);
}

TEST(Cli, DoctorJsonHasTheContractKeys) {
  auto run = runCli({"doctor", "--json"});
  ASSERT_EQ(run.exitCode, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  for (const char* key : {"version", "torch_version", "cuda_available", "devices", "threads", "gui", "backends"})
    EXPECT_TRUE(j.contains(key)) << key;
  for (const char* key : {"igraph", "hnswlib", "distributed_gloo", "distributed_nccl"})
    EXPECT_TRUE(j["backends"][key].is_boolean()) << key;
  EXPECT_TRUE(j["cuda_available"].is_boolean());
  EXPECT_TRUE(j["devices"].is_array());
  EXPECT_GE(j["threads"].get<int>(), 1);
  // The CPU smoke test multiplies a 2x3 matrix by its transpose and checks the result.
  EXPECT_EQ(j["smoke_tests"][0].get<std::string>(), "cpu: ok");
}

TEST(Cli, UnknownCommandAndOptionAreUsageErrors) {
  auto run = runCli({"frobnicate"});
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.err.find("unknown command"), std::string::npos);
  run = runCli({"doctor", "--bogus"});
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.err.find("unknown option --bogus"), std::string::npos);
  // One line, no crash.
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1);
}
