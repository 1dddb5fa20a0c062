#pragma once
// cellwright-cli: subcommands register themselves (one file per command under commands/).
// Contract (../shared/docs/cli-contract.md): one-line error on stderr and exit 1 on bad
// input, exit 2 on bad usage, never a crash.
#include <functional>
#include <string>
#include <vector>

#include "cellwright/cli/args.h"

namespace cw::cli {

struct Command {
  std::string name;
  std::string summary;
  std::string usage;  // argument synopsis after the command name
  std::vector<OptionSpec> options;
  int minPositionals = 0;
  int maxPositionals = 0;  // -1: unbounded
  std::function<int(const Args&)> run;  // returns the exit code; throws cw::Error / UsageError
};

// Registers a command at static-initialisation time; returns true.
bool registerCommand(Command command);
const std::vector<Command>& commands();

int runCli(int argc, char** argv);

// Shared helpers for commands.
bool stderrIsTerminal();

}  // namespace cw::cli

// In a command file: CELLWRIGHT_REGISTER_COMMAND(makeDoctorCommand) where
// `Command makeDoctorCommand()` builds the command.
#define CELLWRIGHT_REGISTER_COMMAND(factory) \
  static const bool cellwright_registered_##factory = ::cw::cli::registerCommand(factory())
