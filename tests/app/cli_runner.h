#pragma once
// Runs cellwright-cli as a child process and captures its exit code, stdout and stderr.
#include <string>
#include <vector>

struct CliRun {
  int exitCode = -1;
  std::string out;
  std::string err;
};

CliRun runCli(const std::vector<std::string>& args);
